import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CpuTimes, createCpuSampler, readCpuTimes } from "./cpu-sampler.ts";

/** A fake /proc/stat and clock: each read returns the next reading, each sleep advances the clock. */
function fakeGuest(readings: CpuTimes[]) {
  let nowMs = 1_000_000;
  let reads = 0;
  const sleeps: number[] = [];
  return {
    options: {
      read: async () => readings[reads++],
      now: () => nowMs,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        nowMs += ms;
      },
    },
    advance: (ms: number) => {
      nowMs += ms;
    },
    reads: () => reads,
    sleeps,
  };
}

describe("createCpuSampler", () => {
  it("measures a fresh window on the first call: busy ticks over all ticks", async () => {
    const g = fakeGuest([
      { idle: 100, total: 200 },
      { idle: 130, total: 240 }, // 40 ticks, 30 idle → 25 % busy
    ]);
    const cpu = createCpuSampler({ ...g.options, windowMs: 250 });
    assert.equal(await cpu.cpuUsedPct(), 25);
    assert.deepEqual(g.sleeps, [250]);
  });

  it("reuses the previous call's reading when it is recent, without waiting", async () => {
    const g = fakeGuest([
      { idle: 0, total: 0 },
      { idle: 10, total: 20 },
      { idle: 20, total: 60 }, // since the previous call: 40 ticks, 10 idle → 75 %
    ]);
    const cpu = createCpuSampler({ ...g.options, windowMs: 250, maxAgeMs: 10_000 });
    await cpu.cpuUsedPct();
    g.advance(2000);
    assert.equal(await cpu.cpuUsedPct(), 75);
    assert.equal(g.sleeps.length, 1, "only the first call waited");
    assert.equal(g.reads(), 3);
  });

  it("takes a fresh window when the previous reading is stale", async () => {
    const g = fakeGuest([
      { idle: 0, total: 0 },
      { idle: 10, total: 20 },
      { idle: 1000, total: 1000 },
      { idle: 1000, total: 1010 }, // fresh window: 10 ticks, 0 idle → 100 %
    ]);
    const cpu = createCpuSampler({ ...g.options, windowMs: 250, maxAgeMs: 10_000 });
    await cpu.cpuUsedPct();
    g.advance(60_000);
    assert.equal(await cpu.cpuUsedPct(), 100);
    assert.equal(g.sleeps.length, 2);
  });

  it("answers 0 where /proc/stat cannot be read", async () => {
    const cpu = createCpuSampler({ read: async () => undefined, sleep: async () => {} });
    assert.equal(await cpu.cpuUsedPct(), 0);
  });

  it("starts no timer: creating a sampler and never asking keeps the event loop free", async () => {
    // If the sampler scheduled anything, this check would see an extra active handle of type Timeout.
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    createCpuSampler();
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length, before);
  });

  it("reads real /proc/stat on Linux", async () => {
    const t = await readCpuTimes();
    assert.ok(t && t.total > 0 && t.idle >= 0 && t.idle <= t.total);
  });
});
