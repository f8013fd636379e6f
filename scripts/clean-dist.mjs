#!/usr/bin/env node
// prepack: start from an empty dist/ so the tarball never ships files whose source is gone.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

rmSync(fileURLToPath(new URL("../dist", import.meta.url)), { recursive: true, force: true });
