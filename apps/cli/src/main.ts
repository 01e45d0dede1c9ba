/**
 * Entry of the `wrenn` CLI (`node --import tsx apps/cli/src/main.ts …`, or `bin/wrenn.js`).
 *
 * Inside the repository the SDK package `wrenn` is used from its TypeScript source, exported under the
 * `@wrenn/source` condition. This entry adds that condition to module resolution before loading anything that
 * imports the SDK, so `node --import tsx apps/cli/src/main.ts` works without `--conditions` and without a build.
 * Only `node:` modules may be imported statically here.
 */
import { register } from "node:module";

const addSourceCondition = `export async function resolve(specifier, context, next) {
  const conditions = context.conditions.includes("@wrenn/source")
    ? context.conditions
    : [...context.conditions, "@wrenn/source"];
  return next(specifier, { ...context, conditions });
}`;
register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`, import.meta.url);

const { runCli } = await import("./cli.ts");
process.exitCode = await runCli(process.argv);
