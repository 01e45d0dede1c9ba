import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../config.ts";
import { DecryptError, decryptConfig, decryptValue, encryptConfig, encryptValue } from "./config-encryption.ts";
import { ENCRYPTION_KEY_FILE, persistedEncryptionKey } from "./encryption-key.ts";

describe("channel config encryption", () => {
  const key = randomBytes(32);

  it("round-trips values, with a fresh nonce each time, as base64(nonce ‖ ciphertext ‖ tag)", () => {
    const a = encryptValue(key, "https://hooks.slack.com/services/T/B/x");
    const b = encryptValue(key, "https://hooks.slack.com/services/T/B/x");
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a, "base64").length, 12 + 38 + 16);
    assert.equal(decryptValue(key, a), "https://hooks.slack.com/services/T/B/x");
    const stored = encryptConfig(key, { bot_token: "1:x", chat_id: "42" });
    assert.deepEqual(Object.keys(stored), ["bot_token", "chat_id"]);
    assert.deepEqual(decryptConfig(key, stored), { bot_token: "1:x", chat_id: "42" });
  });

  it("detects tampering, truncation and a wrong key", () => {
    const stored = Buffer.from(encryptValue(key, "secret"), "base64");
    for (const i of [0, 12, stored.length - 1]) {
      const bad = Buffer.from(stored);
      bad[i] = (bad[i] ?? 0) ^ 1;
      assert.throws(() => decryptValue(key, bad.toString("base64")), DecryptError, `byte ${i}`);
    }
    assert.throws(() => decryptValue(key, stored.subarray(0, 20).toString("base64")), DecryptError);
    assert.throws(() => decryptValue(randomBytes(32), stored.toString("base64")), DecryptError);
  });

  describe("WRENN_ENCRYPTION_KEY", () => {
    const dirs: string[] = [];
    const dir = () => {
      const d = mkdtempSync(join(tmpdir(), "wrenn-enc-"));
      dirs.push(d);
      return d;
    };
    after(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it("is generated once into the data dir with mode 0600 when unset, then reused", () => {
      const d = dir();
      const first = loadConfig({ WRENN_DATA_DIR: d, JWT_SECRET: "x".repeat(32) }).encryptionKey;
      assert.match(first, /^[0-9a-f]{64}$/);
      const file = join(d, ENCRYPTION_KEY_FILE);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, "utf8").trim(), first);
      assert.equal(loadConfig({ WRENN_DATA_DIR: d, JWT_SECRET: "x".repeat(32) }).encryptionKey, first);
    });

    it("uses a set key as is and refuses a malformed one at startup", () => {
      const set = "AB".repeat(32);
      assert.equal(loadConfig({ WRENN_DATA_DIR: dir(), WRENN_ENCRYPTION_KEY: set }).encryptionKey, set.toLowerCase());
      for (const bad of ["abc", "g".repeat(64), "a".repeat(63)]) {
        assert.throws(
          () => loadConfig({ WRENN_DATA_DIR: dir(), WRENN_ENCRYPTION_KEY: bad }),
          (e: Error) => e instanceof ConfigError && /WRENN_ENCRYPTION_KEY: must be 64 hex/.test(e.message),
        );
      }
    });

    it("refuses a corrupt key file instead of replacing it", () => {
      const d = dir();
      writeFileSync(join(d, ENCRYPTION_KEY_FILE), "not-a-key\n");
      assert.throws(() => persistedEncryptionKey(d), /not 64 hex characters/);
    });
  });
});
