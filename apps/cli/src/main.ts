/**
 * Entry of the `wrenn` CLI (`node --import tsx apps/cli/src/main.ts …`, or `bin/wrenn.js`).
 * `source-condition.ts` must run before anything imports the SDK, hence the dynamic import.
 */
import "./source-condition.ts";

const { runCli } = await import("./cli.ts");
process.exitCode = await runCli(process.argv);
