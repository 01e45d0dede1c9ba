/**
 * A clone's identity. Every clone of one snapshot starts with the same kernel RNG state, MAC and clock (vm.md §6,
 * §11); the agent hands each one fresh values through envd /init before anyone else can use it.
 *
 * Under TCG, applying an identity costs the guest several process spawns (reseed helper, `date`, `ip link`; ~130 ms
 * each), so pooled clones are identified when they enter the pool (`identifyClone`, in the background) and a
 * hand-out only binds the capsule's own settings (`bindClone`). A pooled clone is still unique: it got its own
 * token, seed, clock and MAC before anything but the agent talked to it, and the token is known only to the agent.
 */
import { randomBytes } from "node:crypto";
import type { EnvdClient } from "../envd-client/envd-client.ts";

/** Identity handed to one capsule. */
export interface CloneIdentity {
  readonly accessToken: string;
  /** 48 random bytes, base64 (the contract asks for ≥32). */
  readonly rngSeed: string;
  /** Locally administered unicast MAC. */
  readonly macAddress: string;
  readonly hostname: string;
}

/** Fresh random identity. */
export function newIdentity(): CloneIdentity {
  const mac = randomBytes(6);
  // Set the locally-administered bit, clear the multicast bit.
  mac[0] = ((mac[0] ?? 0) | 0x02) & 0xfe;
  return {
    accessToken: randomBytes(32).toString("base64url"),
    rngSeed: randomBytes(48).toString("base64"),
    macAddress: [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":"),
    hostname: "capsule",
  };
}

/** A capsule's own settings, applied when a clone is handed to it. */
export interface CapsuleDefaults {
  readonly envVars: Record<string, string>;
  /** Empty: envd's own user (root). */
  readonly defaultUser: string;
}

/** What hand-out needs of a clone. */
export interface IdentifiableClone {
  readonly envd: EnvdClient;
  /** Set once the clone was identified (pool clones); hand-out then skips the costly part. */
  identity?: CloneIdentity;
  /** When envd last answered the agent (unix ms). */
  answeredAtMs: number;
}

/** How recent an answer must be for hand-out to trust it without asking again. */
export const FRESH_ANSWER_MS = 1000;

/**
 * Gives a restored clone a fresh identity now: token, RNG seed (envd reseeds the CRNG), clock, hostname, MAC,
 * and the capsule's defaults when known. Sets `clone.identity`.
 */
export async function identifyClone(
  clone: IdentifiableClone,
  defaults: CapsuleDefaults | undefined,
  timeoutMs: number,
): Promise<CloneIdentity> {
  const identity = newIdentity();
  await clone.envd.init(
    {
      accessToken: identity.accessToken,
      envVars: defaults?.envVars ?? {},
      defaultUser: defaults?.defaultUser || undefined,
      timestamp: Date.now(),
      rngSeed: identity.rngSeed,
      hostname: identity.hostname,
      macAddress: identity.macAddress,
    },
    timeoutMs,
  );
  clone.identity = identity;
  clone.answeredAtMs = Date.now();
  return identity;
}

/**
 * Hands a clone to a capsule and returns the identity it carries. A clone identified in the pool only gets the
 * capsule's env and user (when there are any) and is checked to answer unless it answered within
 * `FRESH_ANSWER_MS`; any other clone is identified now.
 */
export async function bindClone(
  clone: IdentifiableClone,
  defaults: CapsuleDefaults,
  timeoutMs: number,
): Promise<CloneIdentity> {
  const identity = clone.identity;
  if (!identity) return identifyClone(clone, defaults, timeoutMs);
  const hasDefaults = Object.keys(defaults.envVars).length > 0 || defaults.defaultUser !== "";
  if (hasDefaults) {
    // No clock, seed, hostname or MAC: envd then runs no helper process, so this stays a plain round trip.
    await clone.envd.init(
      { accessToken: identity.accessToken, envVars: defaults.envVars, defaultUser: defaults.defaultUser || undefined },
      timeoutMs,
    );
  } else if (Date.now() - clone.answeredAtMs > FRESH_ANSWER_MS) {
    // An authenticated request on the kept-alive connection: proves envd is alive and still holds our token.
    await clone.envd.process.list({}, { timeoutMs });
  }
  clone.answeredAtMs = Date.now();
  return identity;
}
