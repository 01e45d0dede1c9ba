import { hostagent } from "@wrenn/protocol";
import { type Kysely, sql } from "kysely";
import type { Logger } from "pino";
import type { AgentPool } from "../agents/agent-pool.ts";
import type { CapsuleStatus, Database, Host } from "../db/schema.ts";
import { PLATFORM_TEAM_ID } from "../ids.ts";
import type { AuditLog } from "../services/audit-log.ts";

/** By default a host silent for longer than this becomes `unreachable` (three missed 30 s heartbeats). */
export const HEARTBEAT_TIMEOUT_MS = 90_000;
const LIST_TIMEOUT_MS = 10_000;

/** Dependencies of the host monitor. */
export interface HostMonitorDeps {
  db: Kysely<Database>;
  agents: AgentPool;
  audit: AuditLog;
  log: Logger;
  /** Silence after which a host is `unreachable` (`CP_HEARTBEAT_TIMEOUT_SEC`); default 90 s. */
  heartbeatTimeoutMs?: number;
  now?: () => number;
}

/**
 * The host monitor: marks silent hosts `unreachable` and their capsules `missing`, and
 * reconciles each online host's capsules with what its agent reports (reference §8).
 */
export function createHostMonitor(deps: HostMonitorDeps) {
  const { db, agents, audit, log } = deps;
  const now = deps.now ?? Date.now;
  const heartbeatTimeoutMs = deps.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;

  /** Only rows still in one of `from` change: a pause or resume the API finished meanwhile is not overwritten. */
  async function setStatus(
    ids: string[],
    from: CapsuleStatus[],
    status: CapsuleStatus,
    reason: string,
  ): Promise<Array<{ id: string; team_id: string }>> {
    if (ids.length === 0) return [];
    const changed = await db.transaction().execute((tx) =>
      tx
        .updateTable("capsules")
        .set({ status, status_reason: reason, last_updated: new Date() })
        .where("id", "in", ids)
        .where("status", "in", from)
        // A pause, resume or snapshot in progress settles the row itself.
        .where((eb) => eb.or([eb("lifecycle_op", "is", null), eb("lifecycle_op_until", "<", sql<Date>`now()`)]))
        .returning(["id", "team_id"])
        .execute(),
    );
    log.info({ capsuleIds: ids, status, reason }, "capsules reconciled");
    return changed;
  }

  /** Passive check: hosts without a heartbeat for `heartbeatTimeoutMs`. */
  async function markSilentHosts(): Promise<string[]> {
    const cutoff = new Date(now() - heartbeatTimeoutMs);
    const lost = await db.transaction().execute(async (tx) => {
      const hosts = await tx
        .updateTable("hosts")
        .set({ status: "unreachable", updated_at: new Date() })
        .where("status", "=", "online")
        .where("last_heartbeat_at", "<", cutoff)
        .returning(["id", "team_id", "type"])
        .execute();
      if (hosts.length > 0) {
        await tx
          .updateTable("capsules")
          .set({ status: "missing", status_reason: "host_lost", last_updated: new Date() })
          .where(
            "host_id",
            "in",
            hosts.map((h) => h.id),
          )
          .where("status", "in", ["pending", "starting", "running"])
          .execute();
      }
      return hosts;
    });
    for (const h of lost) {
      log.warn({ hostId: h.id }, "host unreachable; its capsules are missing");
      await audit.record("system", {
        resource_type: "host",
        resource_id: h.id,
        action: "marked_down",
        status: "error",
        teamId: h.type === "byoc" && h.team_id ? h.team_id : PLATFORM_TEAM_ID,
      });
    }
    return lost.map((h) => h.id);
  }

  /** Active check of one online host: fix drift between the database and the agent. */
  async function reconcileHost(host: Host): Promise<void> {
    let listed: hostagent.ListCapsulesResponse;
    try {
      listed = await agents
        .client({ id: host.id, address: host.address, agentKey: host.agent_key })
        .listCapsules({}, { timeoutMs: LIST_TIMEOUT_MS });
    } catch (err) {
      log.debug({ err, hostId: host.id }, "ListCapsules failed; treated as transient");
      return;
    }
    const alive = new Map(listed.capsules.map((c) => [c.capsuleId, c.status]));
    const agentReason = new Map(listed.capsules.map((c) => [c.capsuleId, c.statusReason]));
    const autoPaused = new Set(listed.autoPausedCapsuleIds);
    const rows = await db
      .selectFrom("capsules")
      .select(["id", "status"])
      .where("host_id", "=", host.id)
      .where("status", "in", ["running", "paused", "missing"])
      .execute();
    const known = new Set(rows.map((r) => r.id));
    const toRunning: string[] = [];
    const toPaused: string[] = [];
    // Paused by the agent itself: its reaper ("timeout") or a lost control plane ("host_lost").
    const toPausedByAgent = new Map<string, string[]>();
    const toStopped: string[] = [];
    for (const r of rows) {
      const s = alive.get(r.id);
      const isRunning = s === hostagent.CapsuleStatus.RUNNING;
      const isPaused = s === hostagent.CapsuleStatus.PAUSED;
      if (r.status === "missing") {
        if (isRunning) toRunning.push(r.id);
        else if (isPaused) toPaused.push(r.id);
        else toStopped.push(r.id);
      } else if (r.status === "running") {
        if (isPaused || autoPaused.has(r.id)) {
          const reason = agentReason.get(r.id) || "timeout";
          toPausedByAgent.set(reason, [...(toPausedByAgent.get(reason) ?? []), r.id]);
        } else if (!isRunning) toStopped.push(r.id);
      } else if (r.status === "paused" && s === undefined) {
        toStopped.push(r.id);
      }
    }
    await setStatus(toRunning, ["missing"], "running", "");
    await setStatus(toPaused, ["missing"], "paused", "host_lost");
    for (const [reason, ids] of toPausedByAgent) {
      // An auto-pause is audited as a system pause with status info (reference §7), which also notifies channels.
      for (const c of await setStatus(ids, ["running"], "paused", reason)) {
        await audit.record("system", {
          resource_type: "sandbox",
          resource_id: c.id,
          action: "pause",
          status: "info",
          teamId: c.team_id,
          metadata: { reason },
        });
      }
    }
    await setStatus(toStopped, ["running", "paused", "missing"], "stopped", "host_lost");
    // Capsules the agent runs that the database has stopped (or never knew): destroy them.
    const strays = [...alive.keys()].filter((id) => !known.has(id));
    if (strays.length > 0) {
      const states = await db.selectFrom("capsules").select(["id", "status"]).where("id", "in", strays).execute();
      const pending = new Set(states.filter((s) => s.status === "pending" || s.status === "starting").map((s) => s.id));
      const client = agents.client({ id: host.id, address: host.address, agentKey: host.agent_key });
      for (const id of strays.filter((x) => !pending.has(x))) {
        log.warn({ capsuleId: id, hostId: host.id }, "destroying capsule unknown to the database");
        await client
          .destroyCapsule({ capsuleId: id }, { timeoutMs: 60_000 })
          .catch((err) => log.warn({ err, capsuleId: id }, "stray destroy failed"));
      }
    }
  }

  return {
    markSilentHosts,
    reconcileHost,

    /** Reconciles one host by id (a host that just came back). */
    async reconcileHostById(hostId: string): Promise<void> {
      const h = await db.selectFrom("hosts").selectAll().where("id", "=", hostId).executeTakeFirst();
      if (h && h.status === "online" && h.address) await reconcileHost(h);
    },

    /** One full pass: passive check, then every online host reconciled. */
    async run(signal?: AbortSignal): Promise<void> {
      await markSilentHosts();
      const hosts = await db
        .selectFrom("hosts")
        .selectAll()
        .where("status", "=", "online")
        .where("address", "!=", "")
        .execute();
      for (const h of hosts) {
        if (signal?.aborted) return;
        await reconcileHost(h);
      }
    },
  };
}

/** The host monitor's public shape. */
export type HostMonitor = ReturnType<typeof createHostMonitor>;
