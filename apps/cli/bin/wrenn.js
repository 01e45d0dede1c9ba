#!/usr/bin/env node
// Launcher of the `wrenn` CLI: runs the TypeScript source through tsx, no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
