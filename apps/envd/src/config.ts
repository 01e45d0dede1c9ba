import { parseArgs } from "node:util";
import { ENVD_PORT } from "@wrenn/protocol";

/** envd's settings, parsed once in `main.ts` from the command line and the environment. */
export interface EnvdConfig {
  /** TCP port to listen on; 0 picks a free port. Default 49983 (`ENVD_PORT`). */
  readonly port: number;
  /** Address to bind. Default `0.0.0.0` (the guest's only clients come through the VM's NIC). */
  readonly host: string;
  /**
   * Dev mode: run on a plain host. envd never touches the clock, hostname, MAC or kernel RNG,
   * and every user's home (default working directory) is `root`.
   */
  readonly isDev: boolean;
  /** Home directory used in dev mode for every user. Default: the current working directory. */
  readonly root: string;
  /** Optional command started at boot with tag `init-cmd`. */
  readonly cmd: string | undefined;
  /**
   * The wrenn-spawner binary that starts pipe processes without forking envd; undefined: child_process.spawn.
   * `--spawner PATH` or env `ENVD_SPAWNER` (empty disables it). Default `/usr/local/bin/wrenn-spawner`, used
   * only if it exists. Optional so hand-made configs (tests) start without it.
   */
  readonly spawner?: string;
  /** pino log level. Env `ENVD_LOG_LEVEL`, default `info`. */
  readonly logLevel: string;
}

/** Where guest images install wrenn-spawner (images/src/rootfs-image.ts). */
export const DEFAULT_SPAWNER = "/usr/local/bin/wrenn-spawner";

const USAGE = "usage: envd [--port N] [--host ADDR] [--dev --root DIR] [--cmd CMD] [--spawner PATH]";

/** Parses argv (without node and script) and env into a frozen config; throws with the usage on bad input. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): EnvdConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: "string" },
      host: { type: "string" },
      dev: { type: "boolean", default: false },
      root: { type: "string" },
      cmd: { type: "string" },
      spawner: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const port = values.port === undefined ? ENVD_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${values.port}\n${USAGE}`);
  if (values.root !== undefined && !values.dev) throw new Error(`--root needs --dev\n${USAGE}`);
  return Object.freeze({
    port,
    host: values.host ?? "0.0.0.0",
    isDev: values.dev ?? false,
    root: values.root ?? process.cwd(),
    cmd: values.cmd,
    spawner: (values.spawner ?? env.ENVD_SPAWNER ?? DEFAULT_SPAWNER) || undefined,
    logLevel: env.ENVD_LOG_LEVEL ?? "info",
  });
}
