import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyedLock } from "./keyed-lock.ts";

const tick = () => new Promise((r) => setImmediate(r));

describe("KeyedLock", () => {
  it("runs operations on one key one at a time, in call order", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = lock.run("c1", async () => {
      log.push("a start");
      await gate;
      log.push("a end");
    });
    const b = lock.run("c1", async () => {
      log.push("b");
    });
    await tick();
    assert.deepEqual(log, ["a start"], "b waits while a holds the key");
    assert.equal(lock.isHeld("c1"), true);
    release();
    await Promise.all([a, b]);
    assert.deepEqual(log, ["a start", "a end", "b"]);
    assert.equal(lock.isHeld("c1"), false, "the key is forgotten once its queue drains");
  });

  it("lets different keys run at the same time", async () => {
    const lock = new KeyedLock();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = lock.run("c1", () => gate);
    let other = false;
    await lock.run("c2", async () => {
      other = true;
    });
    assert.equal(other, true);
    release();
    await slow;
  });

  it("passes on a failure to its caller and keeps serving the key", async () => {
    const lock = new KeyedLock();
    await assert.rejects(
      lock.run("c1", async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await lock.run("c1", async () => 42), 42);
  });
});
