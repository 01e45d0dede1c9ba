/**
 * A clone's identity. Every clone of one snapshot starts with the same kernel RNG state, MAC and clock (vm.md §6,
 * §11); the agent hands each one fresh values through envd /init before anyone else can use it.
 */
import { randomBytes } from "node:crypto";

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
