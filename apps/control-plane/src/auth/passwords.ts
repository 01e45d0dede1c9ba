import { hash, verify } from "@node-rs/argon2";

/** Hashes a password with argon2id (library defaults: m=19456 KiB, t=2, p=1). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** True when `password` matches `stored`; false for a malformed hash instead of throwing. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
