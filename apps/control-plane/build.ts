/**
 * Builds builds/wrenn-cp: one CommonJS bundle with a node shebang. PGlite (WASM + data files)
 * and @node-rs/argon2 (native addon) stay external and load from node_modules at run time.
 */
import { join } from "node:path";
import { bundleNodeApp } from "../../scripts/bundle-node-app.ts";

await bundleNodeApp({
  entry: join(import.meta.dirname, "src", "main.ts"),
  name: "wrenn-cp",
  external: ["@electric-sql/pglite", "@node-rs/argon2", "pg-native"],
});
