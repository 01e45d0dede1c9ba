import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** `WRENN_ENCRYPTION_KEY`'s format: 64 hex characters, an AES-256 key. */
export const ENCRYPTION_KEY_PATTERN = /^[0-9a-fA-F]{64}$/;

/** Name of the file in the data directory that keeps a generated key. */
export const ENCRYPTION_KEY_FILE = "encryption-key";

/**
 * The key kept in `<dataDir>/encryption-key`, generated (mode 0600) on first use so a zero-setup control plane
 * can store channel secrets. A file that exists but is malformed is an error, never silently replaced: every
 * channel config encrypted under the old key would become unreadable.
 */
export function persistedEncryptionKey(dataDir: string): string {
  const file = join(dataDir, ENCRYPTION_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file, "utf8").trim();
    if (!ENCRYPTION_KEY_PATTERN.test(key)) {
      throw new Error(`${file} is not 64 hex characters; fix it or set WRENN_ENCRYPTION_KEY`);
    }
    return key.toLowerCase();
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString("hex");
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process sharing the data dir wrote it first: use that one.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return persistedEncryptionKey(dataDir);
    throw err;
  }
  chmodSync(file, 0o600);
  return key;
}

/** The 32-byte key from its hex form (validated by config.ts). */
export function encryptionKeyBytes(hex: string): Buffer {
  if (!ENCRYPTION_KEY_PATTERN.test(hex)) throw new Error("encryption key must be 64 hex characters");
  return Buffer.from(hex, "hex");
}
