import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig, parseListenAddr } from "./config.ts";

describe("loadConfig", () => {
  it("gives working defaults with nothing set", () => {
    const c = loadConfig({});
    assert.equal(c.listenAddr, ":50051");
    assert.equal(c.rootDir, "/var/lib/wrenn");
    assert.equal(c.cpUrl, undefined);
    assert.equal(c.accel, "auto");
    assert.equal(c.poolSize, 2);
    assert.deepEqual(c.prewarmTemplates, ["minimal"]);
    assert.equal(c.bootTimeoutMs, 120_000);
    assert.equal(c.heartbeatIntervalMs, 30_000);
    assert.equal(c.defaultMemoryMb, 512, "the API's default size, so the warm pool serves API creates");
    assert.ok(Object.isFrozen(c));
  });

  it("reads every variable, and an empty prewarm list means none", () => {
    const c = loadConfig({
      AGENT_LISTEN_ADDR: "127.0.0.1:9000",
      AGENT_FILES_ROOTDIR: "/srv/w",
      AGENT_CP_URL: "http://cp:8080",
      AGENT_KEY: "k",
      AGENT_ACCEL: "tcg",
      AGENT_POOL_SIZE: "0",
      AGENT_TSC_KHZ: "2100000",
      AGENT_PREWARM_TEMPLATES: "",
      AGENT_BOOT_TIMEOUT_SEC: "45",
      AGENT_HEARTBEAT_INTERVAL_SEC: "5",
    });
    assert.equal(c.heartbeatIntervalMs, 5_000);
    assert.equal(c.cpUrl, "http://cp:8080");
    assert.equal(c.poolSize, 0);
    assert.equal(c.tscKhz, 2100000);
    assert.deepEqual(c.prewarmTemplates, []);
    assert.equal(c.bootTimeoutMs, 45_000);
  });

  it("lists every bad variable in one error", () => {
    assert.throws(
      () => loadConfig({ AGENT_ACCEL: "hvf", AGENT_POOL_SIZE: "-1", AGENT_CP_URL: "not a url" }),
      (e: Error) =>
        /AGENT_ACCEL/.test(e.message) && /AGENT_POOL_SIZE/.test(e.message) && /AGENT_CP_URL/.test(e.message),
    );
  });
});

describe("parseListenAddr", () => {
  it("splits host and port", () => {
    assert.deepEqual(parseListenAddr(":50051"), { host: "", port: 50051 });
    assert.deepEqual(parseListenAddr("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseListenAddr("[::1]:80"), { host: "::1", port: 80 });
    assert.throws(() => parseListenAddr("nope"));
  });
});
