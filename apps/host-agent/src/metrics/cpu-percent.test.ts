import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { CapsuleMetricsSampler } from "./capsule-metrics-sampler.ts";
import { cpuPercent } from "./cpu-percent.ts";
import { createProcReader, type ProcReader, parseRssBytes, parseStatTicks } from "./proc-reader.ts";

const log = pino({ level: "silent" });

describe("cpuPercent", () => {
  it("is 100 when one vCPU's worth of ticks passed in the elapsed time", () => {
    assert.equal(cpuPercent({ prevTicks: 1000, ticks: 1050, elapsedMs: 500, vcpus: 1 }), 100);
  });
  it("divides by the vCPU count", () => {
    assert.equal(cpuPercent({ prevTicks: 0, ticks: 50, elapsedMs: 500, vcpus: 2 }), 50);
    assert.equal(cpuPercent({ prevTicks: 0, ticks: 10, elapsedMs: 1000, vcpus: 4 }), 2.5);
  });
  it("clamps to 0–100 and is 0 without elapsed time or when the counter went backwards", () => {
    assert.equal(cpuPercent({ prevTicks: 0, ticks: 500, elapsedMs: 500, vcpus: 1 }), 100);
    assert.equal(cpuPercent({ prevTicks: 500, ticks: 10, elapsedMs: 500, vcpus: 1 }), 0);
    assert.equal(cpuPercent({ prevTicks: 0, ticks: 10, elapsedMs: 0, vcpus: 1 }), 0);
  });
});

describe("/proc parsing", () => {
  it("reads utime + stime after the command name, even one with spaces and parentheses", () => {
    const line = "4242 (qemu (x) sys) S 1 4242 4242 0 -1 4194560 1 0 0 0 1234 567 0 0 20 0 3 0 100 1 2 3\n";
    assert.equal(parseStatTicks(line), 1234 + 567);
    assert.throws(() => parseStatTicks("garbage"));
  });
  it("reads VmRSS in bytes", () => {
    assert.equal(parseRssBytes("Name:\tqemu\nVmPeak:\t 9 kB\nVmRSS:\t  204800 kB\n"), 204_800 * 1024);
    assert.equal(parseRssBytes("Name:\tkthread\n"), 0);
  });
});

/** A fake /proc whose counters the test moves by hand. */
function fakeProc(state: { ticks: number; rss: number; disk: number }): ProcReader {
  return {
    cpuTicks: async () => state.ticks,
    rssBytes: async () => state.rss,
    allocatedBytes: async () => state.disk,
  };
}

describe("CapsuleMetricsSampler", () => {
  it("uses the first reading as baseline, then pushes CPU %, RSS and disk per sample", async () => {
    const state = { ticks: 1000, rss: 300 << 20, disk: 4096 };
    let now = Date.UTC(2026, 0, 1);
    const s = new CapsuleMetricsSampler(
      { capsuleId: "cl-a", pid: 1, vcpus: 2, diskPath: "/x" },
      { proc: fakeProc(state), log, now: () => now },
    );
    assert.equal(await s.sampleOnce(), undefined);
    now += 500;
    state.ticks += 50; // one of two vCPUs busy for 500 ms
    assert.deepEqual(await s.sampleOnce(), { timestampMs: now, cpuPct: 50, memBytes: 300 << 20, diskBytes: 4096 });
    now += 500;
    assert.equal((await s.sampleOnce())?.cpuPct, 0, "no ticks: idle");
    assert.equal(s.points("10m").length, 2);
    const flushed = s.flush();
    assert.equal(flushed.points10m.length, 2);
    assert.deepEqual(s.points("10m"), []);
  });

  it("skips samples while the process cannot be read, then carries on", async () => {
    let fail = true;
    let ticks = 0;
    let now = 0;
    const proc: ProcReader = {
      cpuTicks: async () => {
        if (fail) throw new Error("ENOENT");
        return ticks;
      },
      rssBytes: async () => 1,
      allocatedBytes: async () => {
        throw new Error("no disk");
      },
    };
    const s = new CapsuleMetricsSampler(
      { capsuleId: "cl-b", pid: 2, vcpus: 1, diskPath: "/missing" },
      { proc, log, now: () => now },
    );
    assert.equal(await s.sampleOnce(), undefined);
    fail = false;
    await s.sampleOnce();
    now += 1000;
    ticks += 25;
    assert.deepEqual(await s.sampleOnce(), { timestampMs: 1000, cpuPct: 25, memBytes: 1, diskBytes: 0 });
  });

  it("reads a fake /proc tree and a file's allocated blocks through the real reader", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wrenn-proc-"));
    try {
      await mkdir(join(dir, "77"));
      await writeFile(join(dir, "77", "stat"), "77 (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 300 200 0 0 20 0 1 0\n");
      await writeFile(join(dir, "77", "status"), "VmRSS:\t  1024 kB\n");
      await writeFile(join(dir, "disk"), Buffer.alloc(64 * 1024, 1));
      const r = createProcReader(dir);
      assert.equal(await r.cpuTicks(77), 500);
      assert.equal(await r.rssBytes(77), 1024 * 1024);
      assert.ok((await r.allocatedBytes(join(dir, "disk"))) >= 64 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("sees a busy process near 100 % of one CPU and a sleeping one near 0 (real /proc)", async () => {
    const busy = spawn(process.execPath, ["-e", "const end = Date.now() + 60000; while (Date.now() < end) {}"], {
      stdio: "ignore",
    });
    const idle = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const proc = createProcReader();
      const pct = async (pid: number) => {
        const s = new CapsuleMetricsSampler(
          { capsuleId: `cl-${pid}`, pid, vcpus: 1, diskPath: "/nonexistent" },
          { proc, log },
        );
        await s.sampleOnce();
        const samples: number[] = [];
        for (let i = 0; i < 6; i++) {
          await new Promise((r) => setTimeout(r, 500));
          const x = await s.sampleOnce();
          if (x) samples.push(x.cpuPct);
        }
        return samples.reduce((a, b) => a + b, 0) / samples.length;
      };
      await new Promise((r) => setTimeout(r, 300)); // let node start up
      const [b, i] = await Promise.all([pct(busy.pid as number), pct(idle.pid as number)]);
      // The busy process gets a full core on an idle machine but only a share of one when the two cores
      // are contended, so compare it with the sleeper instead of a fixed figure.
      assert.ok(b > 10 && b > 5 * Math.max(i, 1), `busy process at ${b.toFixed(1)} %, idle at ${i.toFixed(1)} %`);
      assert.ok(i < 10, `idle process at ${i.toFixed(1)} %`);
    } finally {
      busy.kill("SIGKILL");
      idle.kill("SIGKILL");
    }
  });
});
