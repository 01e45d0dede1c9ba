/**
 * Where the port proxy sends a capsule's traffic: the agent of the capsule's host, looked up once and then cached
 * for `ttlMs` (the reference: 120 s), so proxied traffic costs no database query per request. A cached entry can
 * outlive a pause or destroy; the agent then answers 409 or 404 itself. The proxy evicts an entry whose agent could
 * not be reached.
 */
import type { Kysely } from "kysely";
import type { AgentTarget } from "../agents/agent-pool.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { capsuleWithHost, targetOf } from "./capsule-store.ts";

/** How long a capsule → agent resolution is reused, in ms (the reference's proxy cache). */
export const PROXY_TARGET_TTL_MS = 120_000;

/** Entries kept at most; past it, expired ones are dropped on the next insert. */
const MAX_ENTRIES = 10_000;

/** Options of the cache. */
export interface ProxyTargetOptions {
  /** Default `PROXY_TARGET_TTL_MS`. */
  ttlMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Capsule → agent resolution for the port proxy. */
export interface ProxyTargets {
  /** The running capsule's agent; 404 unknown capsule, 409 not running, 503 host gone or not online. */
  resolve(capsuleId: string): Promise<AgentTarget>;
  /** Forgets a capsule's entry (its agent did not answer). */
  evict(capsuleId: string): void;
}

/** Creates the cache over `db`. */
export function createProxyTargets(db: Kysely<Database>, opts: ProxyTargetOptions = {}): ProxyTargets {
  const ttlMs = opts.ttlMs ?? PROXY_TARGET_TTL_MS;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { target: AgentTarget; expiresAtMs: number }>();
  return {
    async resolve(capsuleId) {
      const hit = cache.get(capsuleId);
      if (hit && hit.expiresAtMs > now()) return hit.target;
      const c = await capsuleWithHost(db, capsuleId);
      if (c.status !== "running") throw errors.invalidState(capsuleId, c.status, "reach its ports");
      const target = targetOf(c);
      if (cache.size >= MAX_ENTRIES) {
        for (const [id, e] of cache) if (e.expiresAtMs <= now()) cache.delete(id);
      }
      cache.set(capsuleId, { target, expiresAtMs: now() + ttlMs });
      return target;
    },
    evict(capsuleId) {
      cache.delete(capsuleId);
    },
  };
}
