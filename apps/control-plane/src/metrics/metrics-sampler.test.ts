import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { pino } from "pino";
import { METRICS_LOCK_KEYS, runWithAdvisoryLock } from "./advisory-lock.ts";
import { createMetricsSampler, sampleTick } from "./metrics-sampler.ts";
import { pruneOldMetrics } from "./prune.ts";
import { BACKENDS, insertCapsule, insertSamples, type TestDb } from "./testing/test-db.ts";

const log = pino({ level: "silent" });
const team = () => `team-${randomBytes(6).toString("hex")}`;

async function samplesOf(t: TestDb, teamId: string) {
  const rows = await t.db
    .selectFrom("sandbox_metrics_snapshots")
    .select(["sampled_at", "vcpus_reserved"])
    .where("team_id", "=", teamId)
    .orderBy("sampled_at")
    .execute();
  return rows.map((r) => ({ at: new Date(r.sampled_at).getTime(), vcpus: r.vcpus_reserved }));
}

async function waitFor(cond: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const open of BACKENDS) {
  describe(`metrics sampler (${open.name})`, () => {
    let t: TestDb;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.close();
    });

    it("samples each tick exactly once when two control planes tick together", async () => {
      const a = team();
      await insertCapsule(t.db, { teamId: a, status: "running", vcpus: 2, memoryMb: 256 });
      const cpA = t.connect();
      const cpB = t.connect();
      const intervalMs = 10_000;
      const firstSlot = Math.floor(Date.UTC(2030, 0, 1) / intervalMs);
      const winners: string[] = [];
      for (let slot = firstSlot; slot < firstSlot + 5; slot++) {
        const now = new Date(slot * intervalMs);
        const [ra, rb] = await Promise.all([
          sampleTick({ db: cpA, log }, slot, now),
          sampleTick({ db: cpB, log }, slot, now),
        ]);
        winners.push(
          ra !== undefined && rb === undefined ? "A" : rb !== undefined && ra === undefined ? "B" : "both/none",
        );
        // A replica that comes late to a tick already worked does nothing.
        assert.equal(await sampleTick({ db: cpA, log }, slot, now), undefined);
      }
      assert.ok(!winners.includes("both/none"), `each tick has exactly one winner: ${winners.join(",")}`);
      const rows = await samplesOf(t, a);
      assert.deepEqual(
        rows.map((r) => r.at),
        [0, 1, 2, 3, 4].map((i) => (firstSlot + i) * intervalMs),
      );
      assert.ok(rows.every((r) => r.vcpus === 2));
    });

    it("does not sample while another holder has the lock", async (ctx) => {
      if (t.name === "pglite") return ctx.skip("PGlite has one session: there is no second lock holder");
      const a = team();
      await insertCapsule(t.db, { teamId: a, status: "running" });
      const slot = Math.floor(Date.UTC(2031, 0, 1) / 10_000);
      const other = t.connect();
      const res = await runWithAdvisoryLock(t.db, METRICS_LOCK_KEYS.sampler, async () =>
        sampleTick({ db: other, log }, slot, new Date(slot * 10_000)),
      );
      assert.deepEqual(res, { ran: true, value: undefined });
      assert.deepEqual(await samplesOf(t, a), []);
    });

    it("runs at start and then on every slot boundary; two timer-driven replicas never double a tick", async () => {
      const a = team();
      await insertCapsule(t.db, { teamId: a, status: "running", vcpus: 1, memoryMb: 128 });
      const intervalMs = 250;
      const written: number[] = [];
      const samplers = [t.connect(), t.connect()].map((db) =>
        createMetricsSampler({ db, log, intervalMs, onSampled: (_rows, slot) => written.push(slot) }),
      );
      try {
        for (const s of samplers) s.start();
        await waitFor(async () => (await samplesOf(t, a)).length >= 4, 30_000, "4 ticks sampled");
      } finally {
        for (const s of samplers) await s.stop();
      }
      const rows = await samplesOf(t, a);
      const ats = rows.map((r) => r.at);
      assert.equal(new Set(ats).size, ats.length, "no tick sampled twice");
      assert.ok(
        ats.every((x) => x % intervalMs === 0),
        "samples are stamped with their slot's start",
      );
      assert.equal(new Set(written).size, written.length, "no slot won twice");
      const after = rows.length;
      await new Promise((r) => setTimeout(r, intervalMs * 3));
      assert.equal((await samplesOf(t, a)).length, after, "stop() ends the schedule");
    });

    it("prunes samples and stored points older than 60 days in bounded batches", async () => {
      const a = team();
      const now = new Date(Date.UTC(2026, 5, 1));
      const old = new Date(now.getTime() - 61 * 86_400_000);
      const recent = new Date(now.getTime() - 59 * 86_400_000);
      const rows = [];
      for (let i = 0; i < 25; i++)
        rows.push({ teamId: a, at: new Date(old.getTime() + i * 1000), running: 1, vcpus: 1, memoryMb: 1 });
      rows.push({ teamId: a, at: recent, running: 1, vcpus: 1, memoryMb: 1 });
      await insertSamples(t.db, rows);
      await sql`INSERT INTO sandbox_metric_points (sandbox_id, tier, ts) VALUES
        ('cl-old', '24h', ${Math.floor(old.getTime() / 1000)}), ('cl-new', '24h', ${Math.floor(recent.getTime() / 1000)})`.execute(
        t.db,
      );
      const first = await pruneOldMetrics(t.db, now, { batchSize: 10, maxBatches: 2 });
      assert.equal(first.samples, 20, "stops after maxBatches × batchSize");
      const second = await pruneOldMetrics(t.db, now, { batchSize: 10, maxBatches: 2 });
      assert.equal(second.samples, 5);
      assert.equal(first.points + second.points, 1);
      const left = await samplesOf(t, a);
      assert.deepEqual(
        left.map((r) => r.at),
        [recent.getTime()],
      );
    });
  });
}
