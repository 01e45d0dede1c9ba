import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pointsForRange, RANGE_TIER } from "./metric-ranges.ts";
import { averageSamples, MetricRings, type MetricSample, RING_LAYOUT } from "./metric-rings.ts";
import { RingBuffer } from "./ring-buffer.ts";

const T0 = Date.UTC(2026, 2, 25, 12, 0, 0);
/** Sample i, taken at T0 + i × 500 ms, with cpu = i so averages are easy to predict. */
const sample = (i: number): MetricSample => ({ timestampMs: T0 + i * 500, cpuPct: i, memBytes: i * 10, diskBytes: 7 });

describe("RingBuffer", () => {
  it("keeps the newest `capacity` items, oldest first", () => {
    const r = new RingBuffer<number>(3);
    assert.deepEqual(r.toArray(), []);
    for (const x of [1, 2]) r.push(x);
    assert.deepEqual(r.toArray(), [1, 2]);
    for (const x of [3, 4, 5]) r.push(x);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.size, 3);
    r.clear();
    assert.deepEqual(r.toArray(), []);
  });

  it("rejects a non-positive capacity", () => {
    assert.throws(() => new RingBuffer(0));
  });
});

describe("MetricRings cascade", () => {
  it("has the reference layout: 1200 × 500 ms, 240 × 30 s, 288 × 5 min", () => {
    assert.equal(RING_LAYOUT.capacity10m * RING_LAYOUT.sampleIntervalMs, 10 * 60_000);
    assert.equal(RING_LAYOUT.capacity2h * RING_LAYOUT.samplesPer2h * RING_LAYOUT.sampleIntervalMs, 2 * 3_600_000);
    assert.equal(
      RING_LAYOUT.capacity24h * RING_LAYOUT.pointsPer24h * RING_LAYOUT.samplesPer2h * RING_LAYOUT.sampleIntervalMs,
      24 * 3_600_000,
    );
  });

  it("averages each 60 samples into a 2h point stamped with the last sample's time", () => {
    const r = new MetricRings();
    for (let i = 0; i < 59; i++) r.push(sample(i));
    assert.deepEqual(r.tier("2h"), [], "no 2h point before 60 samples");
    r.push(sample(59));
    assert.deepEqual(r.tier("2h"), [{ timestampMs: T0 + 59 * 500, cpuPct: 29.5, memBytes: 295, diskBytes: 7 }]);
    assert.equal(r.tier("10m").length, 60);
  });

  it("averages each 10 2h points into a 24h point (5 minutes of samples)", () => {
    const r = new MetricRings();
    for (let i = 0; i < 600; i++) r.push(sample(i));
    assert.equal(r.tier("2h").length, 10);
    const [p] = r.tier("24h");
    assert.equal(r.tier("24h").length, 1);
    // The mean of the ten 30 s means equals the mean of all 600 samples: (0 + 599) / 2.
    assert.equal(p?.cpuPct, 299.5);
    assert.equal(p?.timestampMs, T0 + 599 * 500);
  });

  it("drops the oldest 500 ms samples after 10 minutes", () => {
    const r = new MetricRings();
    for (let i = 0; i < 1300; i++) r.push(sample(i));
    const t10 = r.tier("10m");
    assert.equal(t10.length, 1200);
    assert.equal(t10[0]?.cpuPct, 100);
    assert.equal(t10.at(-1)?.cpuPct, 1299);
  });

  it("flush returns every tier and starts over, partial averages included", () => {
    const r = new MetricRings();
    for (let i = 0; i < 630; i++) r.push(sample(i));
    const f = r.flush();
    assert.deepEqual([f.points10m.length, f.points2h.length, f.points24h.length], [630, 10, 1]);
    assert.deepEqual([r.tier("10m"), r.tier("2h"), r.tier("24h")], [[], [], []]);
    // The 30 samples pending before the flush must not leak into the next 2h point.
    for (let i = 0; i < 59; i++) r.push(sample(1000 + i));
    assert.deepEqual(r.tier("2h"), []);
    r.push(sample(1059));
    assert.equal(r.tier("2h")[0]?.cpuPct, 1029.5);
  });

  it("rounds averaged bytes down to whole bytes", () => {
    const a = averageSamples([
      { timestampMs: 1, cpuPct: 1, memBytes: 1, diskBytes: 2 },
      { timestampMs: 2, cpuPct: 2, memBytes: 2, diskBytes: 3 },
    ]);
    assert.deepEqual(a, { timestampMs: 2, cpuPct: 1.5, memBytes: 1, diskBytes: 2 });
  });
});

describe("ranges", () => {
  it("maps 5m/10m to the 10m tier, 1h/2h to 2h and 6h/12h/24h to 24h", () => {
    assert.deepEqual(Object.fromEntries(Object.entries(RANGE_TIER).map(([k, v]) => [k, v.tier])), {
      "5m": "10m",
      "10m": "10m",
      "1h": "2h",
      "2h": "2h",
      "6h": "24h",
      "12h": "24h",
      "24h": "24h",
    });
  });

  it("cuts each range off at its length before now", () => {
    const r = new MetricRings();
    for (let i = 0; i < 1200; i++) r.push(sample(i)); // 10 minutes of samples
    const now = T0 + 1199 * 500;
    const five = pointsForRange(r, "5m", now);
    assert.equal(five[0]?.timestampMs, now - 300_000);
    assert.equal(five.length, 601);
    assert.equal(pointsForRange(r, "10m", now).length, 1200);
    assert.equal(pointsForRange(r, "1h", now).length, 20);
    assert.equal(pointsForRange(r, "1h", now + 3_600_001).length, 0);
  });
});
