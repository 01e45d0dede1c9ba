import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { getStatsBuckets, rfc3339, STATS_RANGE_CONFIG, toStatsSeries } from "./stats-series.ts";
import { BACKENDS, insertSamples, type TestDb } from "./testing/test-db.ts";

const team = () => `team-${randomBytes(6).toString("hex")}`;

describe("stats ranges", () => {
  it("uses the reference's bucket widths and lookbacks", () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(STATS_RANGE_CONFIG).map(([k, v]) => [k, [v.bucketSec, v.lookbackSec]])),
      { "5m": [3, 300], "1h": [30, 3600], "6h": [180, 21_600], "24h": [720, 86_400], "30d": [21_600, 2_592_000] },
    );
  });

  it("formats labels as RFC 3339 UTC without fractions", () => {
    assert.equal(rfc3339(new Date(Date.UTC(2026, 2, 25, 10, 0, 3, 500))), "2026-03-25T10:00:03Z");
  });
});

for (const open of BACKENDS) {
  describe(`stats series (${open.name})`, () => {
    let t: TestDb;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.close();
    });

    it("takes the MAX of each column per bucket, so a burst between idle samples survives", async () => {
      const a = team();
      const now = new Date(Date.UTC(2026, 2, 25, 12, 0, 0));
      const at = (secAgo: number) => new Date(now.getTime() - secAgo * 1000);
      // 1h range → 30 s buckets. Bucket [11:58:00, 11:58:30): idle, burst, idle. Bucket [11:59:00, …): steady.
      await insertSamples(t.db, [
        { teamId: a, at: at(120), running: 0, vcpus: 0, memoryMb: 128 },
        { teamId: a, at: at(110), running: 2, vcpus: 4, memoryMb: 2048 },
        { teamId: a, at: at(100), running: 1, vcpus: 1, memoryMb: 4096 },
        { teamId: a, at: at(60), running: 1, vcpus: 2, memoryMb: 512 },
        { teamId: a, at: at(50), running: 1, vcpus: 2, memoryMb: 512 },
        { teamId: a, at: at(3601), running: 9, vcpus: 9, memoryMb: 9999 }, // before the lookback
        { teamId: team(), at: at(60), running: 7, vcpus: 7, memoryMb: 7777 }, // another team
      ]);
      const buckets = await getStatsBuckets(t.db, a, "1h", now);
      assert.deepEqual(toStatsSeries(buckets), {
        labels: ["2026-03-25T11:58:00Z", "2026-03-25T11:59:00Z"],
        running: [2, 1],
        vcpus: [4, 2],
        memory_mb: [4096, 512],
      });
    });

    it("floors to the range's width: 3 s buckets for 5m, and leaves empty buckets out", async () => {
      const a = team();
      const now = new Date(Date.UTC(2026, 2, 25, 12, 0, 0));
      await insertSamples(t.db, [
        { teamId: a, at: new Date(Date.UTC(2026, 2, 25, 11, 59, 1)), running: 1, vcpus: 1, memoryMb: 1 },
        { teamId: a, at: new Date(Date.UTC(2026, 2, 25, 11, 59, 2)), running: 3, vcpus: 1, memoryMb: 1 },
        { teamId: a, at: new Date(Date.UTC(2026, 2, 25, 11, 59, 40)), running: 2, vcpus: 1, memoryMb: 1 },
      ]);
      const s = toStatsSeries(await getStatsBuckets(t.db, a, "5m", now));
      assert.deepEqual(s.labels, ["2026-03-25T11:59:00Z", "2026-03-25T11:59:39Z"]);
      assert.deepEqual(s.running, [3, 2]);
    });

    it("uses 6-hour buckets over 30 days", async () => {
      const a = team();
      const now = new Date(Date.UTC(2026, 2, 25, 12, 0, 0));
      await insertSamples(t.db, [
        { teamId: a, at: new Date(Date.UTC(2026, 2, 20, 5, 59, 50)), running: 1, vcpus: 1, memoryMb: 1 },
        { teamId: a, at: new Date(Date.UTC(2026, 2, 20, 6, 0, 0)), running: 2, vcpus: 2, memoryMb: 2 },
        { teamId: a, at: new Date(Date.UTC(2026, 2, 20, 11, 0, 0)), running: 1, vcpus: 5, memoryMb: 1 },
      ]);
      const s = toStatsSeries(await getStatsBuckets(t.db, a, "30d", now));
      assert.deepEqual(s.labels, ["2026-03-20T00:00:00Z", "2026-03-20T06:00:00Z"]);
      assert.deepEqual(s.vcpus, [1, 5]);
      assert.deepEqual(s.running, [1, 2]);
    });

    it("returns nothing for a team without samples", async () => {
      assert.deepEqual(await getStatsBuckets(t.db, team(), "24h", new Date()), []);
    });
  });
}
