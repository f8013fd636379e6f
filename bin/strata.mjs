#!/usr/bin/env node
// The same command as bin/strata.cjs (the package's `bin`), for scripts that name this file: it runs that one.
import "./strata.cjs";
