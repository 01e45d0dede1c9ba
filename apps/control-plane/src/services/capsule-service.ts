import { Code, ConnectError } from "@connectrpc/connect";
import type { hostagent } from "@wrenn/protocol";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentPool } from "../agents/agent-pool.ts";
import { agentErrorToWrenn } from "../agents/connect-errors.ts";
import type { AuthContext } from "../auth/auth-context.ts";
import type { CapsuleStatus, Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AuditLog } from "./audit-log.ts";
import { type CapsuleView, capsuleOfTeam, capsuleView, loadCandidates, targetOf } from "./capsule-store.ts";
import type { Scheduler } from "./scheduler.ts";

/** Disk is fixed per capsule, as in the reference. */
export const DISK_SIZE_MB = 5120;
/** How long the control plane waits for an agent to create or resume a capsule (TCG boots are slow). */
const LIFECYCLE_RPC_MS = 300_000;

/** Dependencies of the capsule service. */
export interface CapsuleServiceDeps {
  db: Kysely<Database>;
  agents: AgentPool;
  scheduler: Scheduler;
  audit: AuditLog;
  log: Logger;
}

/** Options of a new capsule (defaults applied by the route schema). */
export interface CreateCapsuleInput {
  template: string;
  vcpus: number;
  memory_mb: number;
  timeout_sec: number;
}

const isConnectionFailure = (err: unknown) =>
  err instanceof ConnectError && (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded);

/** Capsule lifecycle: create, list, get, destroy, ping, pause, resume. Every state change is a transaction. */
export function createCapsuleService(deps: CapsuleServiceDeps) {
  const { db, agents, audit, log } = deps;

  async function setStatus(id: string, status: CapsuleStatus, reason: string, extra: Record<string, unknown> = {}) {
    const row = await db.transaction().execute((tx) =>
      tx
        .updateTable("capsules")
        .set({ status, status_reason: reason, last_updated: new Date(), ...extra })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    log.info({ capsuleId: id, status, reason }, "capsule status changed");
    return row;
  }

  const fromInfo = (info: hostagent.CapsuleInfo | undefined) => ({
    host_ip: info?.hostIp ?? "",
    metadata: JSON.stringify(info?.metadata ?? {}),
  });

  return {
    async create(ctx: AuthContext, input: CreateCapsuleInput): Promise<CapsuleView> {
      const team = await db
        .selectFrom("teams")
        .select(["is_byoc"])
        .where("id", "=", ctx.teamId)
        .executeTakeFirstOrThrow();
      const hosts = await loadCandidates(db, ctx.teamId, team.is_byoc);
      const host = deps.scheduler(hosts, { vcpus: input.vcpus, memory_mb: input.memory_mb, disk_mb: DISK_SIZE_MB });
      const id = newId("cl");
      await db.transaction().execute((tx) =>
        tx
          .insertInto("capsules")
          .values({
            id,
            team_id: ctx.teamId,
            host_id: host.id,
            template: input.template,
            status: "pending",
            vcpus: input.vcpus,
            memory_mb: input.memory_mb,
            timeout_sec: input.timeout_sec,
            disk_size_mb: DISK_SIZE_MB,
            metadata: "{}",
          })
          .execute(),
      );
      const clog = log.child({ capsuleId: id, hostId: host.id });
      clog.info({ template: input.template }, "capsule pending");
      try {
        const res = await agents.client({ id: host.id, address: host.address, agentKey: host.agent_key }).createCapsule(
          {
            capsuleId: id,
            teamId: ctx.teamId,
            template: input.template,
            vcpus: input.vcpus,
            memoryMb: input.memory_mb,
            timeoutSec: input.timeout_sec,
            diskSizeMb: DISK_SIZE_MB,
            defaultUser: "root",
          },
          { timeoutMs: LIFECYCLE_RPC_MS },
        );
        const now = new Date();
        const row = await setStatus(id, "running", "", {
          ...fromInfo(res.capsule),
          started_at: now,
          last_active_at: now,
        });
        await audit.record(ctx, {
          resource_type: "sandbox",
          resource_id: id,
          action: "create",
          metadata: { template: input.template },
        });
        return capsuleView(row);
      } catch (err) {
        const we = agentErrorToWrenn(err);
        await setStatus(id, "error", `error: ${we.message}`).catch((e) =>
          clog.error({ err: e }, "could not record create failure"),
        );
        clog.warn({ err }, "capsule create failed");
        throw we;
      }
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

    get: async (teamId: string, id: string): Promise<CapsuleView> => capsuleView(await capsuleOfTeam(db, teamId, id)),

    /** Destroys a capsule; unreachable hosts do not block it (the reconciler removes the VM later). */
    async destroy(ctx: AuthContext | "system", teamId: string, id: string, reason = "user"): Promise<void> {
      const c = await capsuleOfTeam(db, teamId, id);
      if (c.status === "stopped") return;
      if (c.host_id && c.host_address && c.host_status === "online") {
        try {
          await agents
            .client({ id: c.host_id, address: c.host_address, agentKey: c.host_agent_key })
            .destroyCapsule({ capsuleId: id }, { timeoutMs: 60_000 });
        } catch (err) {
          const notFound = err instanceof ConnectError && err.code === Code.NotFound;
          if (!notFound && !isConnectionFailure(err)) throw agentErrorToWrenn(err);
          if (!notFound) log.warn({ err, capsuleId: id }, "agent unreachable on destroy; marking stopped anyway");
        }
      }
      await setStatus(id, "stopped", reason);
      await audit.record(ctx, {
        resource_type: "sandbox",
        resource_id: id,
        action: "destroy",
        status: "warning",
        teamId,
      });
    },

    /** Stops every active capsule of a team (team deletion, owner disabled). */
    async stopTeam(teamId: string): Promise<void> {
      const rows = await db
        .selectFrom("capsules")
        .select("id")
        .where("team_id", "=", teamId)
        .where("status", "not in", ["stopped", "error"])
        .execute();
      for (const r of rows) {
        await this.destroy("system", teamId, r.id, "team_deleted").catch((err) =>
          log.warn({ err, capsuleId: r.id }, "stop on team delete failed"),
        );
      }
    },

    async ping(teamId: string, id: string): Promise<void> {
      const c = await capsuleOfTeam(db, teamId, id);
      if (c.status !== "running") throw errors.invalidState(id, c.status, "ping");
      try {
        await agents.client(targetOf(c)).pingCapsule({ capsuleId: id }, { timeoutMs: 30_000 });
      } catch (err) {
        throw agentErrorToWrenn(err);
      }
      await db.updateTable("capsules").set({ last_active_at: new Date() }).where("id", "=", id).execute();
    },

    async pause(ctx: AuthContext, id: string): Promise<CapsuleView> {
      const c = await capsuleOfTeam(db, ctx.teamId, id);
      if (c.status !== "running") throw errors.invalidState(id, c.status, "pause");
      const target = targetOf(c);
      // Pre-mark paused so the reconciler does not race the pause (reference §5).
      await setStatus(id, "paused", "user");
      try {
        const res = await agents
          .client(target)
          .pauseCapsule({ capsuleId: id, reason: "user" }, { timeoutMs: LIFECYCLE_RPC_MS });
        const row = await setStatus(id, "paused", "user", { metadata: fromInfo(res.capsule).metadata });
        await audit.record(ctx, { resource_type: "sandbox", resource_id: id, action: "pause" });
        return capsuleView(row);
      } catch (err) {
        await setStatus(id, "running", "").catch(() => {});
        throw agentErrorToWrenn(err);
      }
    },

    async resume(ctx: AuthContext, id: string): Promise<CapsuleView> {
      const c = await capsuleOfTeam(db, ctx.teamId, id);
      if (c.status !== "paused") throw errors.invalidState(id, c.status, "resume");
      try {
        const res = await agents
          .client(targetOf(c))
          .resumeCapsule(
            { capsuleId: id, timeoutSec: c.timeout_sec, defaultUser: "root" },
            { timeoutMs: LIFECYCLE_RPC_MS },
          );
        const now = new Date();
        const row = await setStatus(id, "running", "", {
          ...fromInfo(res.capsule),
          started_at: now,
          last_active_at: now,
        });
        await audit.record(ctx, { resource_type: "sandbox", resource_id: id, action: "resume" });
        return capsuleView(row);
      } catch (err) {
        throw agentErrorToWrenn(err);
      }
    },
  };
}

/** The capsule service's public shape. */
export type CapsuleService = ReturnType<typeof createCapsuleService>;
