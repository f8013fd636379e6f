#!/bin/sh
# The agent pattern on one host: `strata agent --once` writes the file before the service starts (what a
# Kubernetes init container does), then the agent keeps it current and signals the service on each change
# (the sidecar). Needs STRATA_ENDPOINT, STRATA_TRUSTED_KEYS_FILE and, for secrets, SOPS_AGE_KEY_FILE.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
STRATA=${STRATA:-strata}
STRATA_ENV=${STRATA_ENV:-staging}
DIR=${CONFIG_DIR:-$(mktemp -d)}
export CONFIG="$DIR/config.env" PID_FILE="$DIR/service.pid"

$STRATA agent --env "$STRATA_ENV" --trusted-keys "$STRATA_TRUSTED_KEYS_FILE" --out "$CONFIG" --format env --once
"$here/service.sh" &
service=$!
$STRATA agent --env "$STRATA_ENV" --trusted-keys "$STRATA_TRUSTED_KEYS_FILE" --out "$CONFIG" --format env \
  --signal SIGHUP --pid-file "$PID_FILE" --cache-file "$DIR/last-known-good.json" &
agent=$!
trap 'kill $agent $service 2>/dev/null; wait; exit 0' TERM INT
wait $service
