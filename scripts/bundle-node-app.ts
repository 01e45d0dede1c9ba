/**
 * Bundles a Node app into one executable CommonJS file in builds/ (used by apps/<app>/build.ts).
 * Packages with native addons or WASM data files go in `external` and load from node_modules at run time.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/** What to bundle: the entry file, the output name under builds/, and packages left external. */
export interface NodeAppBundle {
  entry: string;
  name: string;
  external?: string[];
}

/** Writes builds/<name> (chmod 755, node shebang) and returns its path. */
export async function bundleNodeApp(app: NodeAppBundle): Promise<string> {
  const outDir = join(import.meta.dirname, "..", "builds");
  const outfile = join(outDir, app.name);
  mkdirSync(outDir, { recursive: true });
  // The repo's package.json says "type": "module"; extensionless bundles here are CommonJS.
  if (!existsSync(join(outDir, "package.json")))
    writeFileSync(join(outDir, "package.json"), '{ "type": "commonjs" }\n');
  // esbuild keeps an entry's own "#!" line; add one only when the entry has none (two would not parse).
  const hasShebang = readFileSync(app.entry, "utf8").startsWith("#!");
  await build({
    entryPoints: [app.entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    conditions: ["@wrenn/source"],
    external: app.external ?? [],
    ...(hasShebang ? {} : { banner: { js: "#!/usr/bin/env node" } }),
    logLevel: "warning",
    legalComments: "none",
  });
  chmodSync(outfile, 0o755);
  return outfile;
}
