import { Code, ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import { type Kysely, sql, type Updateable } from "kysely";
import type { AgentClient } from "../agents/agent-pool.ts";
import type { Capsule, CapsuleStatus, CapsulesTable, Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { randomHex } from "../ids.ts";

/** How long the control plane waits for an agent to tell what it holds after a failed lifecycle call. */
const STATE_PROBE_MS = 10_000;

/**
 * Moves a capsule from one of `from` to `to` in one compare-and-set statement. Returns the new row, or undefined when
 * the capsule was no longer in `from` (a racing pause, resume or destroy got there first), so a slow lifecycle call
 * never overwrites a newer state: a destroy that lands during a pause stays `stopped`.
 */
export async function transition(
  db: Kysely<Database>,
  id: string,
  from: readonly CapsuleStatus[],
  to: CapsuleStatus,
  reason: string,
  extra: Updateable<CapsulesTable> = {},
): Promise<Capsule | undefined> {
  return db
    .updateTable("capsules")
    .set({ ...extra, status: to, status_reason: reason, last_updated: new Date() })
    .where("id", "=", id)
    .where("status", "in", [...from])
    .returningAll()
    .executeTakeFirst();
}

/**
 * How long a lifecycle lease lasts: longer than any lifecycle RPC deadline, so only a lease whose control plane died
 * is ever taken over.
 */
export const LEASE_SEC = 420;

/** A held lease: release it with `releaseLease` whatever happens. */
export interface Lease {
  token: string;
  row: Capsule;
}

/**
 * Takes the capsule's lifecycle lease (one pause, resume or snapshot at a time, across every control plane) if the
 * capsule is in one of `from`, optionally pre-marking a new status in the same statement. Throws 409 `invalid_state`
 * when the status is wrong, 409 `conflict` when another operation holds the lease.
 */
export async function acquireLease(
  db: Kysely<Database>,
  id: string,
  from: readonly CapsuleStatus[],
  op: string,
  premark?: { status: CapsuleStatus; reason: string },
): Promise<Lease> {
  const token = `${op}:${randomHex(6)}`;
  const row = await db
    .updateTable("capsules")
    .set({
      lifecycle_op: token,
      lifecycle_op_until: sql<Date>`now() + make_interval(secs => ${LEASE_SEC})`,
      ...(premark ? { status: premark.status, status_reason: premark.reason, last_updated: new Date() } : {}),
    })
    .where("id", "=", id)
    .where("status", "in", [...from])
    .where((eb) => eb.or([eb("lifecycle_op", "is", null), eb("lifecycle_op_until", "<", sql<Date>`now()`)]))
    .returningAll()
    .executeTakeFirst();
  if (row) return { token, row };
  const cur = await currentRow(db, id);
  if (!cur || !from.includes(cur.status)) throw errors.invalidState(id, cur?.status ?? "gone", op);
  throw errors.capsuleBusy(id, cur.lifecycle_op?.split(":")[0] ?? "change");
}

/** Releases a lease this operation holds (a lease taken over after expiry is left to its new holder). */
export async function releaseLease(db: Kysely<Database>, id: string, lease: Lease): Promise<void> {
  await db
    .updateTable("capsules")
    .set({ lifecycle_op: null, lifecycle_op_until: null })
    .where("id", "=", id)
    .where("lifecycle_op", "=", lease.token)
    .execute();
}

/** The current row (after a lost compare-and-set, to tell the caller what won). */
export async function currentRow(db: Kysely<Database>, id: string): Promise<Capsule | undefined> {
  return db.selectFrom("capsules").selectAll().where("id", "=", id).executeTakeFirst();
}

/** What the agent holds for one capsule: its info, `absent`, or `unknown` when the agent cannot be asked. */
export type AgentState =
  | { kind: "running" | "paused"; info: hostagent.CapsuleInfo }
  | { kind: "absent" }
  | { kind: "unknown"; err: unknown };

/**
 * Asks the agent what state a capsule is really in. Used after a pause, resume or snapshot fails, so the database is
 * set to what the agent holds instead of what the control plane hoped for.
 */
export async function agentState(client: AgentClient, id: string): Promise<AgentState> {
  try {
    const res = await client.listCapsules({}, { timeoutMs: STATE_PROBE_MS });
    const info = res.capsules.find((c) => c.capsuleId === id);
    if (!info) return { kind: "absent" };
    if (info.status === hostagent.CapsuleStatus.PAUSED) return { kind: "paused", info };
    if (info.status === hostagent.CapsuleStatus.RUNNING) return { kind: "running", info };
    return { kind: "unknown", err: new Error(`agent reports capsule ${id} in state ${info.status}`) };
  } catch (err) {
    return { kind: "unknown", err };
  }
}

/** Connect codes that mean the agent was not reached (or did not answer), so its state is unknown. */
export const isConnectionFailure = (err: unknown) =>
  err instanceof ConnectError && (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded);

/** Host address and metadata of an agent's CapsuleInfo, as stored on the row. */
export const fromInfo = (info: hostagent.CapsuleInfo | undefined) => ({
  host_ip: info?.hostIp ?? "",
  metadata: JSON.stringify(info?.metadata ?? {}),
});
