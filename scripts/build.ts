/**
 * `make build`: writes the three binaries to builds/ — wrenn-cp, wrenn-agent and envd.
 * Each app owns its build script (apps/<app>/build.ts); this runs them in order.
 * `npm run build -- envd` builds just one.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const targets: Record<string, string> = {
  envd: "apps/envd/build.ts",
  "wrenn-agent": "apps/host-agent/build.ts",
  "wrenn-cp": "apps/control-plane/build.ts",
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(targets);
for (const name of names) {
  const script = targets[name];
  if (!script) {
    console.error(`unknown build target "${name}"; choose from: ${Object.keys(targets).join(", ")}`);
    process.exit(2);
  }
  if (!existsSync(join(root, script))) {
    console.error(`${script} is missing`);
    process.exit(1);
  }
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
  console.log(`built builds/${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
