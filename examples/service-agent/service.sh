#!/bin/sh
# An example non-Node service: it reads the dotenv file `strata agent` keeps up to date, and re-reads it
# on SIGHUP (the agent runs with --signal SIGHUP --pid-file). Any language works the same way.
set -eu
CONFIG=${CONFIG:-/config/config.env}
PID_FILE=${PID_FILE:-/config/service.pid}

load() {
  # The agent replaces the file atomically: this read sees the old or the new file, never a mix.
  . "$CONFIG"
  echo "loaded: database ${DATABASE_HOST}, pool max ${DATABASE_POOL_MAX}"
}

trap load HUP
trap 'exit 0' TERM INT
echo $$ > "$PID_FILE"
load
while :; do
  sleep 1 &
  wait $! || true
done
