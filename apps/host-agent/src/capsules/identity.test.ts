import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EnvdClient, EnvdInit } from "../envd-client/envd-client.ts";
import { bindClone, FRESH_ANSWER_MS, type IdentifiableClone, identifyClone, newIdentity } from "./identity.ts";

/** Records what the agent asks of envd (the real envd is exercised by tests/e2e/agent-capsules.test.ts). */
function recordingEnvd() {
  const inits: EnvdInit[] = [];
  let lists = 0;
  const envd = {
    init: async (body: EnvdInit) => {
      inits.push(body);
    },
    process: {
      list: async () => {
        lists++;
        return { processes: [] };
      },
    },
  } as unknown as EnvdClient;
  return { envd, inits, lists: () => lists };
}

describe("newIdentity", () => {
  it("makes a different token, seed and locally administered unicast MAC each time", () => {
    const a = newIdentity();
    const b = newIdentity();
    assert.notEqual(a.accessToken, b.accessToken);
    assert.notEqual(a.rngSeed, b.rngSeed);
    assert.ok(Buffer.from(a.rngSeed, "base64").length >= 32);
    const first = Number.parseInt(a.macAddress.slice(0, 2), 16);
    assert.equal(first & 0x02, 0x02, "locally administered");
    assert.equal(first & 0x01, 0, "unicast");
  });
});

describe("identifyClone", () => {
  it("sends token, seed, clock, hostname and MAC in one /init and remembers the identity", async () => {
    const r = recordingEnvd();
    const clone: IdentifiableClone = { envd: r.envd, answeredAtMs: 0 };
    const before = Date.now();
    const identity = await identifyClone(clone, undefined, 1000);
    assert.equal(clone.identity, identity);
    assert.equal(r.inits.length, 1);
    const body = r.inits[0] as EnvdInit;
    assert.equal(body.accessToken, identity.accessToken);
    assert.equal(body.rngSeed, identity.rngSeed);
    assert.equal(body.macAddress, identity.macAddress);
    assert.equal(body.hostname, "capsule");
    assert.ok((body.timestamp ?? 0) >= before);
    assert.ok(clone.answeredAtMs >= before);
  });
});

describe("bindClone", () => {
  it("identifies a clone that has no identity yet, with the capsule's defaults", async () => {
    const r = recordingEnvd();
    const clone: IdentifiableClone = { envd: r.envd, answeredAtMs: 0 };
    const identity = await bindClone(clone, { envVars: { A: "1" }, defaultUser: "user" }, 1000);
    assert.equal(r.inits.length, 1);
    assert.equal(r.inits[0]?.rngSeed, identity.rngSeed);
    assert.deepEqual(r.inits[0]?.envVars, { A: "1" });
    assert.equal(r.inits[0]?.defaultUser, "user");
  });

  it("hands out a pool-identified clone that answered just now without asking envd anything", async () => {
    const r = recordingEnvd();
    const clone: IdentifiableClone = { envd: r.envd, answeredAtMs: 0 };
    const pooled = await identifyClone(clone, undefined, 1000);
    const identity = await bindClone(clone, { envVars: {}, defaultUser: "" }, 1000);
    assert.equal(identity, pooled, "keeps the identity given in the pool");
    assert.equal(r.inits.length, 1, "no second /init");
    assert.equal(r.lists(), 0, "no liveness check for a fresh answer");
  });

  it("checks a pool clone that has been quiet for a while with one authenticated request", async () => {
    const r = recordingEnvd();
    const clone: IdentifiableClone = { envd: r.envd, answeredAtMs: 0 };
    await identifyClone(clone, undefined, 1000);
    clone.answeredAtMs = Date.now() - FRESH_ANSWER_MS - 1;
    await bindClone(clone, { envVars: {}, defaultUser: "" }, 1000);
    assert.equal(r.lists(), 1);
    assert.equal(r.inits.length, 1);
  });

  it("sends only env and user to a pool clone: no reseed, clock, hostname or MAC at hand-out", async () => {
    const r = recordingEnvd();
    const clone: IdentifiableClone = { envd: r.envd, answeredAtMs: 0 };
    const pooled = await identifyClone(clone, undefined, 1000);
    await bindClone(clone, { envVars: { LANG: "C" }, defaultUser: "" }, 1000);
    assert.equal(r.inits.length, 2);
    assert.deepEqual(r.inits[1], { accessToken: pooled.accessToken, envVars: { LANG: "C" }, defaultUser: undefined });
  });

  it("fails the hand-out when the clone does not answer", async () => {
    const clone: IdentifiableClone = {
      envd: {
        process: {
          list: async () => {
            throw new Error("connection refused");
          },
        },
      } as unknown as EnvdClient,
      answeredAtMs: 0,
      identity: newIdentity(),
    };
    await assert.rejects(bindClone(clone, { envVars: {}, defaultUser: "" }, 1000), /connection refused/);
  });
});
