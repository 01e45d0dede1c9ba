/**
 * Builds builds/wrenn-agent: one CommonJS bundle with a node shebang (the agent has no native addons, so nothing
 * stays external). Run through `make build` / `npm run build -- wrenn-agent`.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..", "..");
const outDir = join(root, "builds");
const outfile = join(outDir, "wrenn-agent");
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
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
  legalComments: "none",
});
chmodSync(outfile, 0o755);
