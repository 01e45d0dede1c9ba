import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  addDays,
  computeDailyUsage,
  daysBetween,
  daysMissingRollup,
  getDailyUsage,
  rollupDay,
  upsertDailyUsage,
  utcDay,
} from "./daily-usage.ts";
import { BACKENDS, insertSamples, type TestDb } from "./testing/test-db.ts";
import { rollupUsage } from "./usage-rollup.ts";

const team = () => `team-${randomBytes(6).toString("hex")}`;
const utc = (iso: string) => new Date(iso);

/** Samples every 10 s over [from, to) with constant figures. */
function steady(teamId: string, from: Date, to: Date, vcpus: number, memoryMb: number) {
  const rows = [];
  for (let t = from.getTime(); t < to.getTime(); t += 10_000) {
    rows.push({ teamId, at: new Date(t), running: vcpus > 0 ? 1 : 0, vcpus, memoryMb });
  }
  return rows;
}

describe("UTC day arithmetic", () => {
  it("adds days across month and year ends and leap days", () => {
    assert.equal(addDays("2025-12-31", 1), "2026-01-01");
    assert.equal(addDays("2028-03-01", -1), "2028-02-29");
    assert.equal(daysBetween("2026-01-01", "2026-04-03"), 92);
    assert.equal(utcDay(utc("2026-03-25T23:59:59.999Z")), "2026-03-25");
  });
});

for (const open of BACKENDS) {
  describe(`daily usage (${open.name})`, () => {
    let t: TestDb;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.close();
    });

    it("turns samples into minutes: one hour of 2 vCPU / 1024 MB is 120 vCPU-min and 61440 MB-min", async () => {
      const a = team();
      await insertSamples(t.db, steady(a, utc("2026-03-10T08:00:00Z"), utc("2026-03-10T09:00:00Z"), 2, 1024));
      assert.deepEqual(await computeDailyUsage(t.db, a, "2026-03-10"), {
        date: "2026-03-10",
        cpu_minutes: 120,
        ram_mb_minutes: 61_440,
      });
    });

    it("splits usage at UTC midnight: samples before 00:00 count for the day before", async () => {
      const a = team();
      // 23:30 → 00:30: 180 samples each side of midnight; 1 vCPU, 300 MB.
      await insertSamples(t.db, steady(a, utc("2026-03-10T23:30:00Z"), utc("2026-03-11T00:30:00Z"), 1, 300));
      const d10 = await computeDailyUsage(t.db, a, "2026-03-10");
      const d11 = await computeDailyUsage(t.db, a, "2026-03-11");
      assert.deepEqual([d10.cpu_minutes, d10.ram_mb_minutes], [30, 9000]);
      assert.deepEqual([d11.cpu_minutes, d11.ram_mb_minutes], [30, 9000]);
      // The sample at exactly 00:00:00 belongs to the new day only.
      await insertSamples(t.db, [{ teamId: a, at: utc("2026-03-12T00:00:00Z"), running: 1, vcpus: 6, memoryMb: 6 }]);
      assert.equal((await computeDailyUsage(t.db, a, "2026-03-11")).cpu_minutes, 30);
      assert.equal((await computeDailyUsage(t.db, a, "2026-03-12")).cpu_minutes, 1);
    });

    it("keeps 4 decimals: one 1-vCPU sample is 0.1667 vCPU-minutes", async () => {
      const a = team();
      await insertSamples(t.db, [{ teamId: a, at: utc("2026-03-01T12:00:00Z"), running: 1, vcpus: 1, memoryMb: 1 }]);
      const u = await rollupDay(t.db, a, "2026-03-01");
      assert.equal(u.cpu_minutes, 0.1667);
      const stored = await getDailyUsage(t.db, a, "2026-03-01", "2026-03-01", utc("2026-03-05T00:00:00Z"));
      assert.deepEqual(stored, [{ date: "2026-03-01", cpu_minutes: 0.1667, ram_mb_minutes: 0.1667 }]);
    });

    it("merges stored days with today computed live, and only up to `to`", async () => {
      const a = team();
      const now = utc("2026-03-20T15:00:00Z");
      await upsertDailyUsage(t.db, a, { date: "2026-03-18", cpu_minutes: 10, ram_mb_minutes: 100 });
      await upsertDailyUsage(t.db, a, { date: "2026-03-19", cpu_minutes: 20, ram_mb_minutes: 200 });
      // A stale stored row for today must be ignored in favour of the live sum.
      await upsertDailyUsage(t.db, a, { date: "2026-03-20", cpu_minutes: 999, ram_mb_minutes: 999 });
      await insertSamples(t.db, steady(a, utc("2026-03-20T14:00:00Z"), utc("2026-03-20T14:01:00Z"), 3, 60));
      assert.deepEqual(await getDailyUsage(t.db, a, "2026-03-01", "2026-03-20", now), [
        { date: "2026-03-18", cpu_minutes: 10, ram_mb_minutes: 100 },
        { date: "2026-03-19", cpu_minutes: 20, ram_mb_minutes: 200 },
        { date: "2026-03-20", cpu_minutes: 3, ram_mb_minutes: 60 },
      ]);
      assert.deepEqual(
        (await getDailyUsage(t.db, a, "2026-03-01", "2026-03-18", now)).map((p) => p.date),
        ["2026-03-18"],
      );
      assert.deepEqual(await getDailyUsage(t.db, team(), "2026-03-01", "2026-03-20", now), [
        { date: "2026-03-20", cpu_minutes: 0, ram_mb_minutes: 0 },
      ]);
    });

    it("rolls up yesterday for active teams, and on the first run fills days left without a row", async () => {
      const a = team();
      const now = utc("2026-03-30T01:00:00Z");
      await insertSamples(t.db, [
        ...steady(a, utc("2026-03-27T10:00:00Z"), utc("2026-03-27T10:01:00Z"), 1, 10), // missed day: 1 min
        ...steady(a, utc("2026-03-29T23:59:00Z"), utc("2026-03-30T00:01:00Z"), 2, 20), // yesterday + today
      ]);
      const missing = (await daysMissingRollup(t.db, new Date(now.getTime() - 93 * 86_400_000), "2026-03-30")).filter(
        (m) => m.team_id === a,
      );
      assert.deepEqual(missing, [
        { team_id: a, day: "2026-03-27" },
        { team_id: a, day: "2026-03-29" },
      ]);
      await rollupUsage(t.db, now, false);
      const stored = () => t.db.selectFrom("daily_usage").select(["cpu_minutes"]).where("team_id", "=", a).execute();
      assert.equal((await stored()).length, 1, "without backfill only yesterday is rolled up");
      await rollupUsage(t.db, now, true);
      assert.equal((await stored()).length, 2);
      assert.deepEqual(await getDailyUsage(t.db, a, "2026-03-26", "2026-03-30", now), [
        { date: "2026-03-27", cpu_minutes: 1, ram_mb_minutes: 10 },
        { date: "2026-03-29", cpu_minutes: 2, ram_mb_minutes: 20 },
        { date: "2026-03-30", cpu_minutes: 2, ram_mb_minutes: 20 },
      ]);
    });
  });
}
