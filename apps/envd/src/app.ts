import { connectNodeAdapter } from "@connectrpc/connect-node";
import { process as processPb } from "@wrenn/protocol";
import type { EnvdConfig } from "./config.ts";
import { createHealthRoute } from "./http/health.ts";
import { createRequestHandler, type RouteTable } from "./http/router.ts";
import { EnvdServer } from "./http/server.ts";
import type { Logger } from "./logger.ts";
import type { ProcessLimits } from "./process/process-handle.ts";
import { createProcessManager, type ProcessManager } from "./process/process-manager.ts";
import { createProcessService } from "./process/process-service.ts";
import { ProcessTable } from "./process/process-table.ts";
import { EnvdState } from "./state.ts";
import { createUserResolver } from "./users.ts";

/** Options of `createEnvd` beyond the config (tests tune them). */
export interface EnvdOptions {
  processLimits?: ProcessLimits;
}

/** A wired envd: its server plus the parts tests and `main.ts` need to reach. */
export interface Envd {
  readonly server: EnvdServer;
  readonly state: EnvdState;
  readonly processes: ProcessManager;
  /** Stops listening, closes connections and (dev mode) kills the processes it started. */
  close(): Promise<void>;
}

/** Builds envd from its config; nothing listens until `server.listen`. */
export function createEnvd(config: EnvdConfig, log: Logger, options: EnvdOptions = {}): Envd {
  const state = new EnvdState();
  const users = createUserResolver({ state, isDev: config.isDev, root: config.root });
  const table = new ProcessTable();
  const processes = createProcessManager({ state, users, table, log, limits: options.processLimits });

  const connect = connectNodeAdapter({
    routes(router) {
      router.service(processPb.Process, createProcessService(processes));
    },
  });
  let server: EnvdServer | undefined;
  const routes: RouteTable = {
    "GET /health": createHealthRoute({ recoverIfRestored: () => {} }),
  };
  server = new EnvdServer(createRequestHandler({ routes, connect, state, log }), log);
  const srv = server;
  return {
    server: srv,
    state,
    processes,
    async close() {
      await srv.close();
      if (config.isDev) table.killAll();
    },
  };
}
