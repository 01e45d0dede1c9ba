import { createHash, randomBytes, randomUUID } from "node:crypto";

/** Prefixes of public ids (reference §1.1). */
export type IdPrefix = "cl" | "usr" | "team" | "key" | "host" | "htok" | "hrt" | "log" | "tpl" | "ch" | "bld";

/** A prefixed id: prefix + "-" + 25 base36 characters encoding a random UUIDv4. */
export function newId(prefix: IdPrefix): string {
  const n = BigInt(`0x${randomUUID().replaceAll("-", "")}`);
  return `${prefix}-${n.toString(36).padStart(25, "0")}`;
}

/** The platform team (all-zero UUID), owner of global templates and admin capsules. */
export const PLATFORM_TEAM_ID = "team-0000000000000000000000000";

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** Hex SHA-256, used to store API keys and one-time tokens. */
export function sha256Hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
