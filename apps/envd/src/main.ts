import "./early-settings.ts";
import { createEnvd } from "./app.ts";
import { parseConfig } from "./config.ts";
import { isUndiciWithoutWasm, loadWebGlobals } from "./guest-runtime.ts";
import { createLogger } from "./logger.ts";
import { ENVD_VERSION } from "./version.ts";

/** Entry point: `envd [--port N] [--host ADDR] [--dev --root DIR] [--cmd CMD]`. */
async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (process.argv.includes("--version")) {
    process.stdout.write(`${ENVD_VERSION}\n`);
    return;
  }
  const log = createLogger(config.logLevel);
  // envd must never die of one bad request: log and keep serving.
  process.on("unhandledRejection", (err) => {
    if (isUndiciWithoutWasm(err)) log.debug({ err }, "undici loaded without WebAssembly (--jitless); envd needs none");
    else log.error({ err }, "unhandled rejection");
  });
  process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception"));
  loadWebGlobals();

  const envd = createEnvd(config, log);
  const port = await envd.server.listen(config.port, config.host);
  log.info({ port, host: config.host, isDev: config.isDev, version: ENVD_VERSION }, "envd listening");
  if (config.cmd) {
    await envd.processes
      .start({
        cmd: "/bin/sh",
        args: ["-c", config.cmd],
        envs: {},
        cwd: undefined,
        pty: undefined,
        tag: "init-cmd",
        stdin: false,
        user: undefined,
      })
      .then(({ subscription }) => subscription.close())
      .catch((err: unknown) => log.error({ err }, "init command failed to start"));
  }
  let isStopping = false;
  const stop = (signal: string) => {
    if (isStopping) return;
    isStopping = true;
    log.info({ signal }, "envd stopping");
    const deadline = setTimeout(() => process.exit(0), 5000);
    deadline.unref();
    void envd.close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
