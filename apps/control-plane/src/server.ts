import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { AgentPool } from "./agents/agent-pool.ts";
import { buildApp } from "./app.ts";
import { BuildWorkers } from "./builds/index.ts";
import { createChannelDispatcher, DISPATCH_INTERVAL_MS, encryptionKeyBytes } from "./channels/index.ts";
import { DELIVERY_TIMEOUT_MS } from "./channels/providers/index.ts";
import type { Config } from "./config.ts";
import { type DatabaseHandle, openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createMetricsSampler, createUsageRollup } from "./metrics/index.ts";
import type { Services } from "./services/container.ts";
import { createMailer } from "./services/mailer.ts";
import { createScheduler } from "./services/scheduler.ts";
import { createHostMonitor } from "./workers/host-monitor.ts";
import { LOCK_KEYS, LockedInterval } from "./workers/locked-interval.ts";

/** A running control plane: HTTP app, database, workers. */
export interface Server {
  app: FastifyInstance;
  services: Services;
  db: DatabaseHandle;
  /** `http://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/** Opens the configured database (embedded when DATABASE_URL is unset). */
export function openConfiguredDatabase(config: Config): Promise<DatabaseHandle> {
  return openDatabase({ url: config.databaseUrl, pgliteDir: `${config.dataDir}/db`, poolSize: config.dbPoolSize });
}

/** Migrates, builds the app, listens, then starts the host monitor, the metrics sampler and the usage rollup. */
export async function startServer(config: Config, log: Logger): Promise<Server> {
  const db = await openConfiguredDatabase(config);
  await migrateToLatest(db.db as never);
  const agents = new AgentPool();
  let monitorJob: LockedInterval | undefined;
  let monitor: ReturnType<typeof createHostMonitor> | undefined;
  const { app, services, cpMetrics } = await buildApp({
    db: db.db,
    logger: log,
    jwtSecret: config.jwtSecret,
    publicUrl: config.publicUrl,
    oauth: config.oauth,
    agents,
    mailer: createMailer(config.smtp, log),
    scheduler: createScheduler(config.scheduler),
    metricsToken: config.metricsToken,
    capsuleCacheMs: config.capsuleCacheMs,
    encryptionKey: encryptionKeyBytes(config.encryptionKey),
    telegramApiUrl: config.telegramApiUrl,
    onHostBack: (hostId) => {
      monitor
        ?.reconcileHostById(hostId)
        .catch((err) => log.warn({ err, hostId }, "reconcile of returning host failed"));
    },
  });
  // services.db, not db.db: its writes must reach the capsule read cache.
  monitor = createHostMonitor({
    db: services.db,
    agents,
    audit: services.audit,
    log,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
  });
  const m = monitor;
  monitorJob = new LockedInterval({
    name: "host-monitor",
    lockKey: LOCK_KEYS.hostMonitor,
    intervalMs: config.hostMonitorIntervalMs,
    locks: db.locks,
    log,
    run: (signal) => m.run(signal),
  });
  // Channel notifications: one replica (advisory lock) reads new audit rows and delivers them.
  const dispatcher = createChannelDispatcher({
    db: db.db,
    log,
    channels: services.channels,
    delivery: { telegramApiUrl: config.telegramApiUrl, timeoutMs: DELIVERY_TIMEOUT_MS },
  });
  const dispatchJob = new LockedInterval({
    name: "channel-dispatcher",
    lockKey: LOCK_KEYS.channelDispatcher,
    intervalMs: DISPATCH_INTERVAL_MS,
    locks: db.locks,
    log,
    run: (signal) => dispatcher.run(signal),
  });
  await app.listen({ host: config.listenHost, port: config.listenPort });
  monitorJob.start();
  dispatchJob.start();
  // Every replica runs these; an advisory lock plus a per-slot claim make one of them work each slot.
  const sampler = createMetricsSampler({
    db: db.db,
    log,
    onSampled: (rows) => {
      cpMetrics.samplerTicks.inc();
      cpMetrics.samplerRows.inc({}, rows);
    },
  });
  const rollup = createUsageRollup({ db: db.db, log });
  sampler.start();
  rollup.start();
  // Template builds: claimed from PostgreSQL with SKIP LOCKED, so every replica can run these workers.
  const buildWorkers = new BuildWorkers({
    db: services.db,
    log,
    builds: services.builds,
    capsules: services.capsules,
    runner: { db: services.db, log, agents, capsules: services.capsules, snapshots: services.snapshots },
  });
  buildWorkers.start();
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.listenPort;
  const host = config.listenHost === "0.0.0.0" ? "127.0.0.1" : config.listenHost;
  return {
    app,
    services,
    db,
    url: `http://${host}:${port}`,
    async close() {
      await monitorJob?.stop();
      await dispatchJob.stop();
      dispatcher.stop();
      await sampler.stop();
      await rollup.stop();
      await buildWorkers.stop();
      await app.close();
      agents.close();
      await db.close();
    },
  };
}
