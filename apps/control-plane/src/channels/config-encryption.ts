import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a stored value cannot be decrypted: wrong key, truncated or tampered. */
export class DecryptError extends Error {
  override readonly name = "DecryptError";
}

/**
 * Encrypts one config value with AES-256-GCM under `key` (32 bytes). The result is base64(nonce ‖ ciphertext ‖ tag),
 * the layout of Go's `gcm.Seal(nonce, nonce, plaintext, nil)` the reference stores, so its rows decrypt here too.
 */
export function encryptValue(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

/** Reverses `encryptValue`; any change to the stored bytes fails authentication with a DecryptError. */
export function decryptValue(key: Buffer, stored: string): string {
  const raw = Buffer.from(stored, "base64");
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new DecryptError("encrypted value is too short");
  const nonce = raw.subarray(0, NONCE_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new DecryptError("encrypted value failed authentication (wrong WRENN_ENCRYPTION_KEY or tampered data)");
  }
}

/** Encrypts every value of a channel config, keys left readable. */
export function encryptConfig(key: Buffer, config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, encryptValue(key, v)]));
}

/** Decrypts every value of a stored channel config. */
export function decryptConfig(key: Buffer, stored: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, decryptValue(key, v)]));
}
