import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, loadConfig } from "./config.ts";

describe("config", () => {
  const dir = mkdtempSync(join(tmpdir(), "wrenn-cp-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults to :8000 and an embedded database, persisting a generated JWT secret", () => {
    const c = loadConfig({ WRENN_DATA_DIR: dir });
    assert.equal(c.listenPort, 8000);
    assert.equal(c.listenHost, "0.0.0.0");
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.jwtSecret.length, 64);
    assert.equal(statSync(join(dir, "jwt-secret")).mode & 0o777, 0o600);
    assert.equal(loadConfig({ WRENN_DATA_DIR: dir }).jwtSecret, c.jwtSecret, "restarts keep the secret");
    assert.equal(readFileSync(join(dir, "jwt-secret"), "utf8").trim(), c.jwtSecret);
    assert.equal(c.heartbeatTimeoutMs, 90_000);
    assert.equal(c.hostMonitorIntervalMs, 15_000);
  });
  it("takes the heartbeat timeout and monitor interval in seconds, and refuses a timeout under 3 s", () => {
    const c = loadConfig({ WRENN_DATA_DIR: dir, CP_HEARTBEAT_TIMEOUT_SEC: "20", CP_HOST_MONITOR_INTERVAL_SEC: "2" });
    assert.deepEqual([c.heartbeatTimeoutMs, c.hostMonitorIntervalMs], [20_000, 2_000]);
    assert.throws(
      () => loadConfig({ WRENN_DATA_DIR: dir, CP_HEARTBEAT_TIMEOUT_SEC: "1", CP_HOST_MONITOR_INTERVAL_SEC: "0" }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /CP_HEARTBEAT_TIMEOUT_SEC/.test(e.message) &&
        /CP_HOST_MONITOR_INTERVAL_SEC/.test(e.message),
    );
  });
  it("lists every bad variable at once", () => {
    assert.throws(
      () => loadConfig({ WRENN_DATA_DIR: dir, JWT_SECRET: "short", CP_LISTEN_ADDR: "nope", CP_SCHEDULER: "random" }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /JWT_SECRET/.test(e.message) &&
        /CP_LISTEN_ADDR/.test(e.message) &&
        /CP_SCHEDULER/.test(e.message),
    );
  });
  it("parses host:port and SMTP", () => {
    const c = loadConfig({
      WRENN_DATA_DIR: dir,
      CP_LISTEN_ADDR: "127.0.0.1:9000",
      SMTP_HOST: "mail",
      SMTP_PORT: "465",
    });
    assert.deepEqual([c.listenHost, c.listenPort], ["127.0.0.1", 9000]);
    assert.equal(c.smtp?.port, 465);
    assert.equal(c.publicUrl, "http://127.0.0.1:9000");
  });
});
