import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../log.ts";
import type { ReadyTemplate } from "../templates/template-store.ts";
import type { Clone } from "./clone-factory.ts";
import { ClonePool } from "./clone-pool.ts";

/** A clone whose VM is a fake (pools are unit-tested without QEMU; e2e tests use real VMs). */
function fakeClone(alive: { value: boolean }): Clone {
  return {
    vm: {
      pid: 1,
      spec: {} as never,
      isAlive: () => alive.value,
      pause: async () => {},
      resume: async () => {},
      saveState: async () => {},
      saveSplit: async () => {},
      forwardPort: async () => 0,
      stats: async () => ({ pssBytes: 0, rssBytes: 0, cpuMs: 0 }),
      kill: async () => {
        alive.value = false;
      },
      detach: () => {},
    },
    envd: { close: () => {} } as never,
    hostPort: 1,
    spawnDir: "/nonexistent",
    envdVersion: "test",
    answeredAtMs: 0,
  };
}

const template = { meta: { key: "t-1c-256m" } } as unknown as ReadyTemplate;
const log = createLogger("silent");

describe("ClonePool", () => {
  it("fills to its size, hands out live clones and refills only when asked", async () => {
    const made: { value: boolean }[] = [];
    const pool = new ClonePool(template, {
      size: 2,
      restore: async () => {
        const alive = { value: true };
        made.push(alive);
        return fakeClone(alive);
      },
      record: async () => {},
      dirOf: (id) => `/nonexistent/${id}`,
      log,
    });
    pool.refill();
    await pool.idle();
    assert.equal(pool.readyCount, 2);
    assert.ok(pool.take());
    assert.equal(pool.readyCount, 1, "take does not refill by itself");
    pool.refill();
    await pool.idle();
    assert.equal(pool.readyCount, 2);
    assert.equal(made.length, 3);
    await pool.close();
    assert.equal(pool.readyCount, 0);
    assert.ok(
      made.slice(1).every((a) => !a.value),
      "close kills pooled clones",
    );
  });

  it("skips clones whose VM died while pooled", async () => {
    const alive: { value: boolean }[] = [];
    const pool = new ClonePool(template, {
      size: 2,
      restore: async () => {
        const a = { value: true };
        alive.push(a);
        return fakeClone(a);
      },
      record: async () => {},
      dirOf: (id) => `/nonexistent/${id}`,
      log,
    });
    pool.refill();
    await pool.idle();
    (alive[0] as { value: boolean }).value = false;
    const taken = pool.take();
    assert.equal(taken?.clone.vm.isAlive(), true);
    assert.equal(pool.readyCount, 0);
    await pool.close();
  });

  it("stops after repeated restore failures instead of spinning", async () => {
    let attempts = 0;
    const pool = new ClonePool(template, {
      size: 2,
      restore: async () => {
        attempts++;
        throw new Error("restore failed");
      },
      record: async () => {},
      dirOf: (id) => `/nonexistent/${id}`,
      log,
    });
    pool.refill();
    await pool.idle();
    assert.equal(attempts, 3);
    assert.equal(pool.readyCount, 0);
    await pool.close();
  });
});
