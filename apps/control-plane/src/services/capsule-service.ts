import { Code, ConnectError } from "@connectrpc/connect";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentClient, AgentPool } from "../agents/agent-pool.ts";
import { agentErrorToWrenn } from "../agents/connect-errors.ts";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId } from "../ids.ts";
import { deleteCapsulePoints, persistFlushedMetrics } from "../metrics/index.ts";
import type { AuditLog } from "./audit-log.ts";
import { type CapsuleView, capsuleOfTeam, capsuleView, capsuleViewOfTeam, loadCandidates } from "./capsule-store.ts";
import { currentRow, fromInfo, isConnectionFailure, transition } from "./capsule-transitions.ts";
import type { CapsuleViewCache } from "./capsule-view-cache.ts";
import type { Scheduler } from "./scheduler.ts";
import { resolveTemplate } from "./template-store.ts";

/** Disk is fixed per capsule, as in the reference. */
export const DISK_SIZE_MB = 5120;
/** How long the control plane waits for an agent to create, pause or resume a capsule (TCG boots are slow). */
export const LIFECYCLE_RPC_MS = 300_000;
const FLUSH_RPC_MS = 15_000;

/** Dependencies of the capsule service. */
export interface CapsuleServiceDeps {
  db: Kysely<Database>;
  agents: AgentPool;
  scheduler: Scheduler;
  audit: AuditLog;
  log: Logger;
  /** Answers of `get`; invalidated by every capsule write of this process. Default: none. */
  capsuleCache?: CapsuleViewCache;
}

/** Options of a new capsule (defaults applied by the route schema). */
export interface CreateCapsuleInput {
  template: string;
  vcpus: number;
  memory_mb: number;
  timeout_sec: number;
}

/**
 * Stores a capsule's metric rings before it goes away (reference §5): every tier on pause, the 24h tier on destroy.
 * Best effort: a capsule is never kept running because its metrics could not be saved.
 */
export async function flushMetrics(
  db: Kysely<Database>,
  client: AgentClient,
  id: string,
  tiers: ReadonlyArray<"10m" | "2h" | "24h">,
  log: Logger,
): Promise<void> {
  try {
    const res = await client.flushCapsuleMetrics({ capsuleId: id }, { timeoutMs: FLUSH_RPC_MS });
    await persistFlushedMetrics(db, id, res, tiers);
  } catch (err) {
    log.warn({ err, capsuleId: id }, "capsule metrics not flushed");
  }
}

/** Capsule create, list, get and destroy. Pause, resume and ping are in capsule-lifecycle.ts. */
export function createCapsuleService(deps: CapsuleServiceDeps) {
  const { db, agents, audit, log } = deps;

  const service = {
    async create(ctx: AuthContext, input: CreateCapsuleInput): Promise<CapsuleView> {
      const template = await resolveTemplate(db, ctx.teamId, input.template);
      if (!template) throw errors.templateNotFound(input.template);
      // A snapshot fixes the machine shape (its memory image is that size) and lives on one host.
      const isSnapshot = template.type === "snapshot";
      const vcpus = isSnapshot ? template.vcpus : input.vcpus;
      const memoryMb = isSnapshot ? template.memory_mb : input.memory_mb;
      const team = await db
        .selectFrom("teams")
        .select(["is_byoc"])
        .where("id", "=", ctx.teamId)
        .executeTakeFirstOrThrow();
      let hosts = await loadCandidates(db, ctx.teamId, team.is_byoc);
      if (isSnapshot) {
        hosts = hosts.filter((h) => h.id === template.host_id);
        if (hosts.length === 0)
          throw errors.hostUnavailable(`the host holding template ${template.name} is not online`);
      }
      const host = deps.scheduler(hosts, { vcpus, memory_mb: memoryMb, disk_mb: DISK_SIZE_MB });
      const id = newId("cl");
      await db
        .insertInto("capsules")
        .values({
          id,
          team_id: ctx.teamId,
          host_id: host.id,
          template: input.template,
          status: "pending",
          vcpus,
          memory_mb: memoryMb,
          timeout_sec: input.timeout_sec,
          disk_size_mb: DISK_SIZE_MB,
          metadata: "{}",
        })
        .execute();
      const clog = log.child({ capsuleId: id, hostId: host.id });
      clog.info({ template: input.template }, "capsule pending");
      const client = agents.client({ id: host.id, address: host.address, agentKey: host.agent_key });
      let res: Awaited<ReturnType<AgentClient["createCapsule"]>>;
      try {
        res = await client.createCapsule(
          {
            capsuleId: id,
            // The agent looks a snapshot template up under its owner: the team's own, or the platform's.
            teamId: isSnapshot ? template.team_id : ctx.teamId,
            template: input.template,
            vcpus,
            memoryMb,
            timeoutSec: input.timeout_sec,
            diskSizeMb: DISK_SIZE_MB,
            defaultUser: template.default_user,
            defaultEnv: template.default_env ?? {},
          },
          { timeoutMs: LIFECYCLE_RPC_MS },
        );
      } catch (err) {
        const we = agentErrorToWrenn(err);
        await transition(db, id, ["pending"], "error", `error: ${we.message}`).catch((e) =>
          clog.error({ err: e }, "could not record create failure"),
        );
        clog.warn({ err }, "capsule create failed");
        throw we;
      }
      const now = new Date();
      const row = await transition(db, id, ["pending"], "running", "user", {
        ...fromInfo(res.capsule),
        started_at: now,
        last_active_at: now,
      });
      if (!row) {
        // Destroyed while it was being created: the VM the agent just made must not outlive the row.
        await client.destroyCapsule({ capsuleId: id }, { timeoutMs: 60_000 }).catch((err) => {
          clog.warn({ err }, "could not destroy a capsule destroyed during its create");
        });
        const cur = await currentRow(db, id);
        throw errors.invalidState(id, cur?.status ?? "stopped", "finish creating");
      }
      clog.info("capsule running");
      await audit.record(ctx, {
        resource_type: "sandbox",
        resource_id: id,
        action: "create",
        metadata: { template: input.template },
      });
      return capsuleView(row);
    },

    async list(teamId: string): Promise<CapsuleView[]> {
      const rows = await db
        .selectFrom("capsules")
        .selectAll()
        .where("team_id", "=", teamId)
        .where("status", "not in", ["stopped", "error"])
        .orderBy("created_at", "desc")
        .execute();
      return rows.map(capsuleView);
    },

    get: (teamId: string, id: string): Promise<CapsuleView> =>
      deps.capsuleCache
        ? deps.capsuleCache.get(teamId, id, () => capsuleViewOfTeam(db, teamId, id))
        : capsuleViewOfTeam(db, teamId, id),

    /**
     * Destroys a capsule; unreachable hosts do not block it (the reconciler removes the VM later). A running
     * capsule's 24h metric tier is kept; a paused one's finer tiers are dropped (reference §5).
     */
    async destroy(ctx: AuthContext | "system", teamId: string, id: string, reason = "user"): Promise<void> {
      const c = await capsuleOfTeam(db, teamId, id);
      if (c.status === "stopped") return;
      if (c.host_id && c.host_address && c.host_status === "online") {
        const client = agents.client({ id: c.host_id, address: c.host_address, agentKey: c.host_agent_key });
        if (c.status === "running") await flushMetrics(db, client, id, ["24h"], log);
        try {
          await client.destroyCapsule({ capsuleId: id }, { timeoutMs: 60_000 });
        } catch (err) {
          const notFound = err instanceof ConnectError && err.code === Code.NotFound;
          if (!notFound && !isConnectionFailure(err)) throw agentErrorToWrenn(err);
          if (!notFound) log.warn({ err, capsuleId: id }, "agent unreachable on destroy; marking stopped anyway");
        }
      }
      if (c.status === "paused") {
        await deleteCapsulePoints(db, id, ["10m", "2h"]).catch((err) =>
          log.warn({ err, capsuleId: id }, "could not drop metric points"),
        );
      }
      // Unconditional: stopped is final, whatever a racing pause or resume wrote meanwhile.
      await db
        .updateTable("capsules")
        .set({ status: "stopped", status_reason: reason, last_updated: new Date() })
        .where("id", "=", id)
        .execute();
      log.info({ capsuleId: id, reason }, "capsule stopped");
      await audit.record(ctx, {
        resource_type: "sandbox",
        resource_id: id,
        action: "destroy",
        status: "warning",
        teamId,
      });
    },

    /** Stops every active capsule of a team (team deletion, owner disabled). */
    async stopTeam(teamId: string, reason = "team_deleted"): Promise<void> {
      const rows = await db
        .selectFrom("capsules")
        .select("id")
        .where("team_id", "=", teamId)
        .where("status", "not in", ["stopped", "error"])
        .execute();
      for (const r of rows) {
        await service
          .destroy("system", teamId, r.id, reason)
          .catch((err) => log.warn({ err, capsuleId: r.id }, "stop on team delete failed"));
      }
    },
  };
  return service;
}

/** The capsule service's public shape. */
export type CapsuleService = ReturnType<typeof createCapsuleService>;
