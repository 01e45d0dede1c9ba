/**
 * Makes `import "wrenn"` load the SDK's TypeScript source inside the repository.
 *
 * The SDK package exports its source under the `@wrenn/source` condition (and `dist/` otherwise). Importing this
 * module registers a resolve hook that adds the condition, so `node --import tsx apps/cli/src/main.ts` and the test
 * runner work without `--conditions=@wrenn/source` and without a build. It affects modules loaded *after* it: import
 * it first, then load SDK users with a dynamic `import()`. Only `node:` modules may be imported here.
 */
import { register } from "node:module";

const addSourceCondition = `export async function resolve(specifier, context, next) {
  const conditions = context.conditions.includes("@wrenn/source")
    ? context.conditions
    : [...context.conditions, "@wrenn/source"];
  return next(specifier, { ...context, conditions });
}`;

register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`, import.meta.url);
