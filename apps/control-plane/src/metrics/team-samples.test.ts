import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { getLiveMetrics, getPeakMetrics, recordTeamSamples, sampleTeamMetrics } from "./team-samples.ts";
import { BACKENDS, insertCapsule, insertSamples, setCapsuleStatus, type TestDb } from "./testing/test-db.ts";

const team = () => `team-${randomBytes(6).toString("hex")}`;

for (const open of BACKENDS) {
  describe(`team samples (${open.name})`, () => {
    let t: TestDb;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.close();
    });

    const sampleOf = async (teamId: string) => (await sampleTeamMetrics(t.db)).find((s) => s.team_id === teamId);

    it("gives a team whose capsules are all stopped a row of zeros", async () => {
      const a = team();
      await insertCapsule(t.db, { teamId: a, status: "stopped", vcpus: 2, memoryMb: 1024 });
      await insertCapsule(t.db, { teamId: a, status: "stopped", vcpus: 4, memoryMb: 2048 });
      assert.deepEqual(await sampleOf(a), { team_id: a, running_count: 0, vcpus_reserved: 0, memory_mb_reserved: 0 });
    });

    it("records the zero row, so a chart falls to zero after the last capsule stops", async () => {
      const a = team();
      const id = await insertCapsule(t.db, { teamId: a, status: "running", vcpus: 2, memoryMb: 512 });
      const t1 = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));
      const t2 = new Date(Date.UTC(2026, 0, 1, 0, 0, 10));
      await recordTeamSamples(t.db, t1);
      await setCapsuleStatus(t.db, id, "stopped");
      await recordTeamSamples(t.db, t2);
      const rows = await t.db
        .selectFrom("sandbox_metrics_snapshots")
        .select(["sampled_at", "running_count", "vcpus_reserved", "memory_mb_reserved"])
        .where("team_id", "=", a)
        .orderBy("sampled_at")
        .execute();
      assert.equal(rows.length, 2);
      assert.deepEqual(
        rows.map((r) => [
          new Date(r.sampled_at).toISOString(),
          r.running_count,
          r.vcpus_reserved,
          r.memory_mb_reserved,
        ]),
        [
          [t1.toISOString(), 1, 2, 512],
          [t2.toISOString(), 0, 0, 0],
        ],
      );
    });

    it("rounds paused memory up per VM: three paused 511 MB capsules reserve 768 MB, not 767", async () => {
      const a = team();
      for (let i = 0; i < 3; i++) await insertCapsule(t.db, { teamId: a, status: "paused", vcpus: 2, memoryMb: 511 });
      assert.deepEqual(await sampleOf(a), { team_id: a, running_count: 0, vcpus_reserved: 0, memory_mb_reserved: 768 });
      assert.deepEqual(await getLiveMetrics(t.db, a), { running_count: 0, vcpus_reserved: 0, memory_mb_reserved: 768 });
    });

    it("counts running and starting in full, paused at half memory and no CPU, others not at all", async () => {
      const a = team();
      await insertCapsule(t.db, { teamId: a, status: "running", vcpus: 2, memoryMb: 1024 });
      await insertCapsule(t.db, { teamId: a, status: "starting", vcpus: 1, memoryMb: 512 });
      await insertCapsule(t.db, { teamId: a, status: "paused", vcpus: 4, memoryMb: 1001 }); // → 501
      await insertCapsule(t.db, { teamId: a, status: "paused", vcpus: 1, memoryMb: 256 }); // → 128
      for (const status of ["pending", "stopped", "missing", "error"]) {
        await insertCapsule(t.db, { teamId: a, status, vcpus: 8, memoryMb: 8192 });
      }
      const expected = { running_count: 2, vcpus_reserved: 3, memory_mb_reserved: 1024 + 512 + 501 + 128 };
      assert.deepEqual(await sampleOf(a), { team_id: a, ...expected });
      assert.deepEqual(await getLiveMetrics(t.db, a), expected);
    });

    it("keeps teams apart and gives no row to a team that never had a capsule", async () => {
      const a = team();
      const b = team();
      await insertCapsule(t.db, { teamId: a, status: "running", vcpus: 1, memoryMb: 256 });
      await insertCapsule(t.db, { teamId: b, status: "running", vcpus: 3, memoryMb: 300 });
      assert.equal((await sampleOf(a))?.vcpus_reserved, 1);
      assert.equal((await sampleOf(b))?.vcpus_reserved, 3);
      assert.equal(await sampleOf(team()), undefined);
      assert.deepEqual(await getLiveMetrics(t.db, team()), {
        running_count: 0,
        vcpus_reserved: 0,
        memory_mb_reserved: 0,
      });
    });

    it("takes 30-day peaks per column and ignores older samples", async () => {
      const a = team();
      const now = new Date(Date.UTC(2026, 2, 31, 12));
      const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
      await insertSamples(t.db, [
        { teamId: a, at: daysAgo(31), running: 50, vcpus: 50, memoryMb: 50_000 }, // outside the window
        { teamId: a, at: daysAgo(20), running: 3, vcpus: 2, memoryMb: 4096 },
        { teamId: a, at: daysAgo(10), running: 1, vcpus: 6, memoryMb: 1024 },
        { teamId: a, at: daysAgo(1), running: 2, vcpus: 1, memoryMb: 8192 },
        { teamId: team(), at: daysAgo(1), running: 99, vcpus: 99, memoryMb: 99 },
      ]);
      assert.deepEqual(await getPeakMetrics(t.db, a, now), { running_count: 3, vcpus: 6, memory_mb: 8192 });
      assert.deepEqual(await getPeakMetrics(t.db, team(), now), { running_count: 0, vcpus: 0, memory_mb: 0 });
    });
  });
}
