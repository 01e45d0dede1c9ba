import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentPool } from "../agents/agent-pool.ts";
import { createAuthenticator } from "../auth/authenticator.ts";
import { createTokenSigner } from "../auth/tokens.ts";
import { createBuildService } from "../builds/build-service.ts";
import { createChannelService } from "../channels/channel-service.ts";
import { DELIVERY_TIMEOUT_MS, TELEGRAM_API_URL } from "../channels/providers/index.ts";
import type { Database } from "../db/schema.ts";
import { WriteWatch } from "../db/write-watch.ts";
import { deleteTeamMetrics } from "../metrics/index.ts";
import { createOAuthService, type OAuthConfig } from "../oauth/index.ts";
import { createAdminTeamService } from "./admin-team-service.ts";
import { createApiKeyService } from "./api-key-service.ts";
import { createAuditLog } from "./audit-log.ts";
import { createAuditLogReader } from "./audit-log-reader.ts";
import { createAuthService } from "./auth-service.ts";
import { createCapsuleLifecycle } from "./capsule-lifecycle.ts";
import { createCapsuleOps } from "./capsule-ops.ts";
import { createCapsuleService } from "./capsule-service.ts";
import type { CapsuleWithHost } from "./capsule-store.ts";
import { CapsuleViewCache } from "./capsule-view-cache.ts";
import { createHostRegistration } from "./host-registration.ts";
import { createHostService } from "./host-service.ts";
import type { Mailer } from "./mailer.ts";
import { createProxyTargets } from "./proxy-targets.ts";
import type { Scheduler } from "./scheduler.ts";
import { createSnapshotService } from "./snapshot-service.ts";
import { createTeamService } from "./team-service.ts";
import { createUserService } from "./user-service.ts";

/** What the services are built from. */
export interface ServiceDeps {
  db: Kysely<Database>;
  log: Logger;
  agents: AgentPool;
  mailer: Mailer;
  scheduler: Scheduler;
  jwtSecret: string;
  publicUrl: string;
  /** GitHub sign-in; absent means disabled, with the browser sent back to `publicUrl`. */
  oauth?: OAuthConfig;
  /** API-key cache window in ms (0 disables; tests of revocation across replicas use 0). */
  keyCacheMs?: number;
  /** How long `GET /v1/capsules/{id}` may answer from memory, in ms (default 1000; 0 disables). */
  capsuleCacheMs?: number;
  /** AES-256 key (32 bytes) of channel configs; absent in tests: a random one per process. */
  encryptionKey?: Buffer;
  /** Telegram Bot API base URL (default https://api.telegram.org). */
  telegramApiUrl?: string;
}

/** Wires every service from its dependencies; the HTTP layer and the workers use the result. */
export function createServices(deps: ServiceDeps) {
  const { log } = deps;
  // Every service writes through this instance, so any capsule write on this replica empties the read caches (and
  // any host write the one that also holds the capsule's host address and key).
  const watch = new WriteWatch(new Set(["capsules", "hosts"]));
  const db = deps.db.withPlugin(watch);
  const capsuleCache = new CapsuleViewCache({ ttlMs: deps.capsuleCacheMs ?? 1000 });
  const routeCache = new CapsuleViewCache<CapsuleWithHost>({ ttlMs: deps.capsuleCacheMs ?? 1000 });
  watch.onWrite((table) => {
    if (table === "capsules") capsuleCache.invalidate();
    routeCache.invalidate();
  });
  const tokens = createTokenSigner(deps.jwtSecret);
  const authn = createAuthenticator(db, tokens, { keyCacheMs: deps.keyCacheMs });
  const audit = createAuditLog(db, log);
  const auth = createAuthService({ db, tokens, mailer: deps.mailer, log, publicUrl: deps.publicUrl });
  const capsules = {
    ...createCapsuleService({ db, agents: deps.agents, scheduler: deps.scheduler, audit, log, capsuleCache }),
    ...createCapsuleLifecycle({ db, agents: deps.agents, audit, log }),
  };
  const snapshots = createSnapshotService({
    db,
    agents: deps.agents,
    audit,
    log,
    destroyCapsule: (actor, teamId, id) => capsules.destroy(actor, teamId, id),
  });
  const stopTeamCapsules = (teamId: string) => capsules.stopTeam(teamId, "owner_disabled");
  /** A team is being deleted: its capsules stop, its templates and capacity history go. */
  const teamDeleted = async (teamId: string) => {
    await capsules.stopTeam(teamId);
    await snapshots.removeTeamTemplates(teamId);
    await deleteTeamMetrics(db, teamId);
  };
  const registration = createHostRegistration(db, tokens);
  return {
    db,
    log,
    tokens,
    authn,
    audit,
    auth,
    agents: deps.agents,
    capsules,
    ops: createCapsuleOps(db, deps.agents, {
      touchEveryMs: deps.capsuleCacheMs ?? 1000,
      cache: routeCache,
      activityDb: deps.db,
    }),
    snapshots,
    apiKeys: createApiKeyService(db, audit, () => authn.forgetKeys()),
    teams: createTeamService({ db, audit, mailer: deps.mailer, teamDeleted }),
    oauth: createOAuthService({
      db,
      auth,
      log,
      hmacKey: deps.jwtSecret,
      config: deps.oauth ?? { redirectUrl: deps.publicUrl, publicUrl: deps.publicUrl },
    }),
    users: createUserService({ db, auth, audit, mailer: deps.mailer, stopTeamCapsules, teamDeleted }),
    registration,
    adminTeams: createAdminTeamService(db, audit, teamDeleted),
    hosts: createHostService({ db, agents: deps.agents, registration, audit, log }),
    proxyTargets: createProxyTargets(db),
    builds: createBuildService({ db, audit, log }),
    auditLogs: createAuditLogReader(db),
    channels: createChannelService({
      db,
      audit,
      encryptionKey: deps.encryptionKey ?? randomBytes(32),
      delivery: { telegramApiUrl: deps.telegramApiUrl ?? TELEGRAM_API_URL, timeoutMs: DELIVERY_TIMEOUT_MS },
    }),
  };
}

/** Every service, as passed to route plugins and workers. */
export type Services = ReturnType<typeof createServices>;
