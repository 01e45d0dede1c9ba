import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentClient, AgentPool } from "../agents/agent-pool.ts";
import { agentErrorToWrenn } from "../agents/connect-errors.ts";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Capsule, Database } from "../db/schema.ts";
import { errors, type WrennError } from "../errors.ts";
import type { AuditLog } from "./audit-log.ts";
import { flushMetrics, LIFECYCLE_RPC_MS } from "./capsule-service.ts";
import { type CapsuleView, capsuleOfTeam, capsuleView, targetOf } from "./capsule-store.ts";
import {
  acquireLease,
  agentState,
  currentRow,
  fromInfo,
  type Lease,
  releaseLease,
  transition,
} from "./capsule-transitions.ts";
import { resolveTemplate } from "./template-store.ts";

/** Dependencies of the lifecycle service. */
export interface CapsuleLifecycleDeps {
  db: Kysely<Database>;
  agents: AgentPool;
  audit: AuditLog;
  log: Logger;
}

/** Shortens an agent's error for `status_reason` (`error: pause failed: …`). */
const reasonOf = (what: string, we: WrennError) => `error: ${what} failed: ${we.message}`.slice(0, 500);

/**
 * Pause, resume and ping (reference §5). Every transition is a compare-and-set on the row's status, and a failed
 * agent call is settled by asking the agent what it really holds, so the database and the agent agree afterwards.
 */
export function createCapsuleLifecycle(deps: CapsuleLifecycleDeps) {
  const { db, agents, audit, log } = deps;

  /** After a pause the agent failed: the capsule is whatever the agent says (running when it cannot tell). */
  async function settleFailedPause(client: AgentClient, id: string, we: WrennError): Promise<Capsule | undefined> {
    const state = await agentState(client, id);
    if (state.kind === "paused") {
      // The pause happened (only its answer was lost): keep it.
      return transition(db, id, ["paused"], "paused", "user", { metadata: fromInfo(state.info).metadata });
    }
    if (state.kind === "absent") {
      await transition(db, id, ["paused"], "stopped", reasonOf("pause", we));
      return undefined;
    }
    // Running, or the agent cannot be asked: the reference reverts to running; the host monitor corrects drift.
    await transition(db, id, ["paused"], "running", reasonOf("pause", we));
    return undefined;
  }

  /** After a resume the agent failed: running only if the agent says so; otherwise the capsule stays paused. */
  async function settleFailedResume(client: AgentClient, id: string, we: WrennError): Promise<Capsule | undefined> {
    const state = await agentState(client, id);
    if (state.kind === "running") {
      const now = new Date();
      return transition(db, id, ["paused"], "running", "user", {
        ...fromInfo(state.info),
        started_at: now,
        last_active_at: now,
      });
    }
    if (state.kind === "absent") await transition(db, id, ["paused"], "stopped", reasonOf("resume", we));
    return undefined;
  }

  /** Runs `fn` holding `lease`, releasing it whatever happens. */
  async function withLease<T>(id: string, lease: Lease, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      await releaseLease(db, id, lease).catch((err) => log.error({ err, capsuleId: id }, "lease not released"));
    }
  }

  async function pauseLeased(client: AgentClient, id: string, clog: Logger): Promise<Capsule> {
    await flushMetrics(db, client, id, ["10m", "2h", "24h"], clog);
    let row: Capsule | undefined;
    try {
      const res = await client.pauseCapsule({ capsuleId: id, reason: "user" }, { timeoutMs: LIFECYCLE_RPC_MS });
      row = await transition(db, id, ["paused"], "paused", "user", { metadata: fromInfo(res.capsule).metadata });
    } catch (err) {
      const we = agentErrorToWrenn(err);
      clog.warn({ err }, "pause failed");
      row = await settleFailedPause(client, id, we);
      if (!row) throw we;
    }
    // Only a destroy can have moved it meanwhile.
    if (!row) throw errors.invalidState(id, (await currentRow(db, id))?.status ?? "gone", "pause");
    clog.info("capsule paused");
    return row;
  }

  async function resumeLeased(client: AgentClient, c: Capsule, clog: Logger): Promise<Capsule> {
    const id = c.id;
    // The template's user and environment apply again after a resume (envd is re-initialised).
    const template = await resolveTemplate(db, c.team_id, c.template);
    let row: Capsule | undefined;
    try {
      const res = await client.resumeCapsule(
        {
          capsuleId: id,
          timeoutSec: c.timeout_sec,
          defaultUser: template?.default_user ?? "root",
          defaultEnv: template?.default_env ?? {},
        },
        { timeoutMs: LIFECYCLE_RPC_MS },
      );
      const now = new Date();
      row = await transition(db, id, ["paused"], "running", "user", {
        ...fromInfo(res.capsule),
        started_at: now,
        last_active_at: now,
      });
    } catch (err) {
      const we = agentErrorToWrenn(err);
      clog.warn({ err }, "resume failed");
      row = await settleFailedResume(client, id, we);
      if (!row) throw we;
    }
    if (!row) throw errors.invalidState(id, (await currentRow(db, id))?.status ?? "gone", "resume");
    clog.info({ hostIp: row.host_ip }, "capsule resumed");
    return row;
  }

  return {
    /** Resets the inactivity timer on the agent and records the activity; 409 unless running. */
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
      const client = agents.client(targetOf(c));
      // Pre-mark paused so the host monitor does not race the pause (reference §5); the lease keeps a resume or
      // snapshot from starting until this pause is settled.
      const lease = await acquireLease(db, id, ["running"], "pause", { status: "paused", reason: "user" });
      const row = await withLease(id, lease, () =>
        pauseLeased(client, id, log.child({ capsuleId: id, hostId: c.host_id })),
      );
      await audit.record(ctx, { resource_type: "sandbox", resource_id: id, action: "pause" });
      return capsuleView(row);
    },

    async resume(ctx: AuthContext, id: string): Promise<CapsuleView> {
      const c = await capsuleOfTeam(db, ctx.teamId, id);
      if (c.status !== "paused") throw errors.invalidState(id, c.status, "resume");
      const client = agents.client(targetOf(c));
      const lease = await acquireLease(db, id, ["paused"], "resume");
      const row = await withLease(id, lease, () =>
        resumeLeased(client, lease.row, log.child({ capsuleId: id, hostId: c.host_id })),
      );
      await audit.record(ctx, { resource_type: "sandbox", resource_id: id, action: "resume" });
      return capsuleView(row);
    },
  };
}

/** The lifecycle service's public shape. */
export type CapsuleLifecycle = ReturnType<typeof createCapsuleLifecycle>;
