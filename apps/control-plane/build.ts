/**
 * Builds builds/wrenn-cp: one CommonJS bundle with a node shebang. PGlite (WASM + data files)
 * and @node-rs/argon2 (native addon) stay external and load from node_modules at run time.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..", "..");
const outDir = join(root, "builds");
const outfile = join(outDir, "wrenn-cp");
mkdirSync(outDir, { recursive: true });
// The repo's package.json says "type": "module"; extensionless bundles here are CommonJS.
if (!existsSync(join(outDir, "package.json"))) writeFileSync(join(outDir, "package.json"), '{ "type": "commonjs" }\n');

await build({
  entryPoints: [join(import.meta.dirname, "src", "main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  conditions: ["@wrenn/source"],
  external: ["@electric-sql/pglite", "@node-rs/argon2", "pg-native"],
  logLevel: "warning",
  legalComments: "none",
});
chmodSync(outfile, 0o755);
