import type net from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { leanServerStreamHandler, leanUnaryHandler } from "@wrenn/connect-unary";
import { filesystem as filesystemPb, process as processPb } from "@wrenn/protocol";
import type { EnvdConfig } from "./config.ts";
import { createFilesystemService } from "./filesystem/filesystem-service.ts";
import { WatcherRegistry } from "./filesystem/watcher-registry.ts";
import { createEnvsRoute } from "./http/envs.ts";
import { createFastPath } from "./http/fast-path.ts";
import { createFilesDownloadRoute } from "./http/files-download.ts";
import { createFilesUploadRoute } from "./http/files-upload.ts";
import { createHealthRoute } from "./http/health.ts";
import { createInitRoute } from "./http/init.ts";
import { createMetricsRoute } from "./http/metrics.ts";
import type { HttpRequest, HttpResponse } from "./http/respond.ts";
import { createRequestHandler, type RouteTable } from "./http/router.ts";
import { EnvdServer } from "./http/server.ts";
import { createSnapshotPrepareRoute } from "./http/snapshot.ts";
import type { Logger } from "./logger.ts";
import { encodeProcessStreamResponse } from "./process/event-encoder.ts";
import { encodeProcessStreamResponseJson } from "./process/event-json-encoder.ts";
import { createPipeStarter } from "./process/pipe-starter.ts";
import type { ProcessLimits } from "./process/process-handle.ts";
import { createProcessManager, type ProcessManager } from "./process/process-manager.ts";
import { createProcessService, createProcessStreams } from "./process/process-service.ts";
import { ProcessTable } from "./process/process-table.ts";
import { decodeStartRequest } from "./process/start-request-decoder.ts";
import { EnvdState } from "./state.ts";
import { createCpuSampler } from "./system/cpu-sampler.ts";
import { createHostIdentity } from "./system/host-identity.ts";
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
  /** The wrenn-spawner's pid while one serves envd (tests look at its fds). */
  readonly spawnerPid: number | undefined;
  /**
   * Stops listening, closes connections and watchers, stops the system helper and the spawner and (dev mode) kills the
   * processes it started.
   */
  close(): Promise<void>;
}

/** Builds envd from its config; nothing listens until `server.listen`. */
export function createEnvd(config: EnvdConfig, log: Logger, options: EnvdOptions = {}): Envd {
  const state = new EnvdState();
  const users = createUserResolver({ state, isDev: config.isDev, root: config.root });
  const table = new ProcessTable();
  // Started now, like the system helper, so every template's memory snapshot already holds the spawner.
  const pipes = createPipeStarter({ spawnerPath: config.spawner, log });
  const processes = createProcessManager({
    state,
    users,
    table,
    log,
    limits: options.processLimits,
    startPipes: pipes.start,
  });
  const watchers = new WatcherRegistry();
  const cpu = createCpuSampler();
  // Outside dev mode this starts the system helper now, so every template's memory snapshot holds it.
  const identity = createHostIdentity({ isDev: config.isDev, log });

  const processService = createProcessService(processes);
  const filesystemService = createFilesystemService({ users, watchers });
  const connectEs = connectNodeAdapter({
    // Never compress answers (gzip requests are still read). Connect's default gzips every message of 1 KiB or
    // more for any client that accepts it: process output on a local link then costs guest CPU (10-30x dearer
    // under TCG) and capped a Connect client at ~27 MB/s of stdout, against ~150-330 MB/s uncompressed.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    routes(router) {
      router.service(processPb.Process, processService);
      router.service(filesystemPb.Filesystem, filesystemService);
    },
  });
  // Unary calls (process list, signals, input, stat, list dir, mkdir, move, remove, watcher polls), binary or JSON,
  // are answered without connect-es's per-call machinery: under TCG every JavaScript step of it is emulated guest
  // work. Server streams (Start, Connect, WatchDir) likewise: every command's output goes out this way. Compressed
  // calls stay with connect-es (packages/connect-unary).
  const lean = [
    leanUnaryHandler({ service: processPb.Process, impl: processService }),
    leanUnaryHandler({ service: filesystemPb.Filesystem, impl: filesystemService }),
    leanServerStreamHandler({
      service: processPb.Process,
      impl: processService,
      push: createProcessStreams(processes),
      encoders: { start: encodeProcessStreamResponse, connect: encodeProcessStreamResponse },
      jsonEncoders: { start: encodeProcessStreamResponseJson, connect: encodeProcessStreamResponseJson },
      decoders: { start: decodeStartRequest },
    }),
    leanServerStreamHandler({ service: filesystemPb.Filesystem, impl: filesystemService }),
  ];
  const connect = (req: HttpRequest, res: HttpResponse) => {
    if (!lean.some((handle) => handle(req, res))) connectEs(req as never, res as never);
  };

  // Connections open when the snapshot was taken; after restore their peers are gone.
  let preSnapshot = new Set<net.Socket>();
  const recoverIfRestored = (current: unknown) => {
    if (!state.needsRestore) return;
    state.needsRestore = false;
    for (const socket of preSnapshot) if (socket !== current) socket.destroy();
    log.info({ dropped: preSnapshot.size }, "restored from snapshot: dropped pre-snapshot connections");
    preSnapshot = new Set();
  };
  const routes: RouteTable = {
    "GET /health": createHealthRoute({ recoverIfRestored }),
    "POST /init": createInitRoute({ state, identity }),
    "GET /envs": createEnvsRoute({ state }),
    "GET /metrics": createMetricsRoute({ cpu, diskPath: "/" }),
    "POST /snapshot/prepare": createSnapshotPrepareRoute({
      state,
      markConnections: () => {
        preSnapshot = new Set(server.openSockets());
      },
    }),
    "GET /files": createFilesDownloadRoute({ users }),
    "POST /files": createFilesUploadRoute({ users }),
  };
  const fast = createFastPath({ lean, state, recoverIfRestored });
  const server = new EnvdServer(createRequestHandler({ routes, connect, state, log }), log, fast);
  return {
    server,
    state,
    processes,
    get spawnerPid() {
      return pipes.spawnerPid;
    },
    async close() {
      watchers.closeAll();
      identity.close();
      if (config.isDev) table.killAll();
      pipes.close();
      await server.close();
    },
  };
}
