#!/usr/bin/env node
// Tiny shim: enable the compile cache where Node has it (22+; absent on 20), then run the built CLI.
import module from "node:module";
module.enableCompileCache?.();
const { main } = await import("../dist/cli/main.js");
await main(process.argv.slice(2));
