/**
 * Builds envd as one executable: an esbuild CommonJS bundle injected into a stripped copy of this
 * machine's node as a Node single-executable application (SEA). The PTY addon cannot be embedded, so it
 * is copied beside it as a sidecar folder (the guest image installs it at /usr/local/lib/envd/).
 *
 *   node --import tsx apps/envd/build.ts [--out DIR]     → DIR/envd, DIR/envd-native/ (default builds/)
 */
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const { values } = parseArgs({ options: { out: { type: "string" } } });
const outDir = resolve(values.out ?? join(repo, "builds"));
const work = join(outDir, ".envd-build");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8")) as { version: string };
const sentinel = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

function step(name: string, fn: () => unknown): void {
  const t0 = Date.now();
  fn();
  process.stdout.write(`envd build: ${name} (${Date.now() - t0} ms)\n`);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const bundle = join(work, "envd.cjs");
await build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: false,
  outfile: bundle,
  conditions: ["@wrenn/source"],
  // The PTY addon is loaded at run time from the sidecar, never bundled.
  external: ["@lydell/node-pty"],
  define: {
    __ENVD_VERSION__: JSON.stringify(pkg.version),
    "import.meta.url": "__envdImportMetaUrl",
  },
  banner: { js: 'var __envdImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});
process.stdout.write(`envd build: bundle ${statSync(bundle).size} bytes\n`);

const blob = join(work, "envd.blob");
writeFileSync(
  join(work, "sea-config.json"),
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
);
step("sea blob", () => execFileSync(process.execPath, ["--experimental-sea-config", join(work, "sea-config.json")]));

const exe = join(outDir, "envd");
rmSync(exe, { force: true });
cpSync(process.execPath, exe);
chmodSync(exe, 0o755);
// Strip before injecting: stripping afterwards would corrupt the injected blob.
step("strip node", () => execFileSync("strip", [exe]));
step("postject", () =>
  execFileSync(
    process.execPath,
    [join(repo, "node_modules/postject/dist/cli.js"), exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", sentinel],
    { stdio: ["ignore", "ignore", "pipe"] },
  ),
);

const native = join(outDir, "envd-native");
rmSync(native, { recursive: true, force: true });
for (const name of ["node-pty", `node-pty-${process.platform}-${process.arch}`]) {
  cpSync(join(repo, "node_modules/@lydell", name), join(native, "node_modules/@lydell", name), { recursive: true });
}
writeFileSync(join(native, "README"), "PTY addon for envd. Install this folder as /usr/local/lib/envd/.\n");
rmSync(work, { recursive: true, force: true });
process.stdout.write(`envd build: ${exe} (${statSync(exe).size} bytes), sidecar ${native}\n`);
