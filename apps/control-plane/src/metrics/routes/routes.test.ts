import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { errors } from "../../errors.ts";
import { persistFlushedMetrics } from "../capsule-points.ts";
import { upsertDailyUsage } from "../daily-usage.ts";
import { CAPSULE_TABLE } from "../tables.ts";
import { buildTestApp } from "../testing/test-app.ts";
import { BACKENDS, insertCapsule, insertSamples, type TestDb } from "../testing/test-db.ts";

const team = () => `team-${randomBytes(6).toString("hex")}`;
const NOW = new Date(Date.UTC(2026, 2, 25, 12, 0, 0));
const NOW_S = Math.floor(NOW.getTime() / 1000);

/** A host agent answering GetCapsuleMetrics from a fixed table, over a real in-memory Connect transport. */
function agentWith(points: Record<string, number[]>) {
  const transport = createRouterTransport(({ service }) =>
    service(hostagent.HostAgentService, {
      getCapsuleMetrics: async (req) => {
        const cpu = points[req.capsuleId];
        if (!cpu) throw new ConnectError(`capsule ${req.capsuleId} is not on this host`, Code.NotFound);
        return {
          points: cpu.map((c, i) => ({
            timestampUnix: BigInt(NOW_S - cpu.length + i),
            cpuPct: c,
            memBytes: 100n << 20n,
            diskBytes: 5n,
          })),
        };
      },
    }),
  );
  return createClient(hostagent.HostAgentService, transport);
}

for (const open of BACKENDS) {
  describe(`metrics routes (${open.name})`, () => {
    let t: TestDb;
    let app: FastifyInstance;
    const agent = agentWith({});
    const agentPoints: Record<string, number[]> = {};
    before(async () => {
      t = await open();
      const liveAgent = agentWith(agentPoints);
      app = await buildTestApp({
        db: t.db,
        now: () => NOW,
        findCapsule: async (id, teamId) => {
          const { rows } = await sql<{ status: string }>`
            SELECT status FROM ${sql.table(CAPSULE_TABLE)} WHERE id = ${id} AND team_id = ${teamId}`.execute(t.db);
          const r = rows[0];
          if (!r) throw errors.capsuleNotFound(id);
          return { status: r.status, agent: () => (id.includes("gone") ? agent : liveAgent) };
        },
      });
    });
    after(async () => {
      await app?.close();
      await t?.close();
    });

    const get = (url: string, teamId: string) => app.inject({ method: "GET", url, headers: { "x-test-team": teamId } });

    describe("GET /v1/capsules/stats", () => {
      it("returns live values, 30-day peaks and the MAX-bucketed series in the reference's shape", async () => {
        const a = team();
        await insertCapsule(t.db, { teamId: a, status: "running", vcpus: 2, memoryMb: 1024 });
        for (let i = 0; i < 3; i++) await insertCapsule(t.db, { teamId: a, status: "paused", vcpus: 1, memoryMb: 511 });
        await insertSamples(t.db, [
          { teamId: a, at: new Date(NOW.getTime() - 10 * 86_400_000), running: 5, vcpus: 8, memoryMb: 100 },
          { teamId: a, at: new Date(NOW.getTime() - 100_000), running: 1, vcpus: 2, memoryMb: 1000 },
          { teamId: a, at: new Date(NOW.getTime() - 95_000), running: 2, vcpus: 3, memoryMb: 900 },
        ]);
        const res = await get("/v1/capsules/stats?range=1h", a);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), {
          range: "1h",
          current: { running_count: 1, vcpus_reserved: 2, memory_mb_reserved: 1024 + 768 },
          peaks: { running_count: 5, vcpus: 8, memory_mb: 1000 },
          series: { labels: ["2026-03-25T11:58:00Z"], running: [2], vcpus: [3], memory_mb: [1000] },
        });
      });

      it("defaults to 1h, and rejects an unknown range with invalid_request", async () => {
        const a = team();
        assert.equal((await get("/v1/capsules/stats", a)).json().range, "1h");
        const bad = await get("/v1/capsules/stats?range=7d", a);
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().error.code, "invalid_request");
      });
    });

    describe("GET /v1/capsules/usage", () => {
      it("defaults to the last 30 days including today and merges today's live usage", async () => {
        const a = team();
        await upsertDailyUsage(t.db, a, { date: "2026-02-23", cpu_minutes: 1, ram_mb_minutes: 1 }); // day 31: outside
        await upsertDailyUsage(t.db, a, { date: "2026-02-24", cpu_minutes: 2.5, ram_mb_minutes: 640 });
        await insertSamples(t.db, [
          { teamId: a, at: new Date(NOW.getTime() - 60_000), running: 1, vcpus: 6, memoryMb: 60 },
        ]);
        const res = await get("/v1/capsules/usage", a);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), {
          from: "2026-02-24",
          to: "2026-03-25",
          points: [
            { date: "2026-02-24", cpu_minutes: 2.5, ram_mb_minutes: 640 },
            { date: "2026-03-25", cpu_minutes: 1, ram_mb_minutes: 10 },
          ],
        });
      });

      it("accepts a span of 92 days and rejects 93, reversed ranges and impossible dates", async () => {
        const a = team();
        assert.equal((await get("/v1/capsules/usage?from=2026-01-01&to=2026-04-03", a)).statusCode, 200);
        const cases = [
          "from=2026-01-01&to=2026-04-04",
          "from=2026-03-02&to=2026-03-01",
          "from=2026-02-30",
          "to=20260301",
        ];
        for (const q of cases) {
          const res = await get(`/v1/capsules/usage?${q}`, a);
          assert.equal(res.statusCode, 400, q);
          assert.equal(res.json().error.code, "invalid_request", q);
        }
      });
    });

    describe("GET /v1/capsules/:id/metrics", () => {
      it("reads a running capsule's points from its agent", async () => {
        const a = team();
        const id = await insertCapsule(t.db, { teamId: a, status: "running", hostId: "host-1" });
        agentPoints[id] = [99.5, 0.5];
        const res = await get(`/v1/capsules/${id}/metrics?range=5m`, a);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), {
          sandbox_id: id,
          range: "5m",
          points: [
            { timestamp_unix: NOW_S - 2, cpu_pct: 99.5, mem_bytes: 100 * 2 ** 20, disk_bytes: 5 },
            { timestamp_unix: NOW_S - 1, cpu_pct: 0.5, mem_bytes: 100 * 2 ** 20, disk_bytes: 5 },
          ],
        });
        assert.equal((await get(`/v1/capsules/${id}/metrics`, a)).json().range, "10m", "default range");
      });

      it("reads a paused capsule's points from what was stored at pause, per tier and cutoff", async () => {
        const a = team();
        const id = await insertCapsule(t.db, { teamId: a, status: "paused" });
        const p = (secAgo: number, cpu: number) => ({
          timestampUnix: BigInt(NOW_S - secAgo),
          cpuPct: cpu,
          memBytes: 1n,
          diskBytes: 2n,
        });
        await persistFlushedMetrics(t.db, id, {
          points10m: [p(400, 10), p(200, 20)],
          points2h: [p(5000, 30), p(3000, 40)],
          points24h: [p(80_000, 50)],
        });
        const cpu = async (range: string) =>
          (await get(`/v1/capsules/${id}/metrics?range=${range}`, a))
            .json()
            .points.map((x: { cpu_pct: number }) => x.cpu_pct);
        assert.deepEqual(await cpu("5m"), [20]);
        assert.deepEqual(await cpu("10m"), [10, 20]);
        assert.deepEqual(await cpu("1h"), [40]);
        assert.deepEqual(await cpu("2h"), [30, 40]);
        assert.deepEqual(await cpu("12h"), []);
        assert.deepEqual(await cpu("24h"), [50]);
        // A second flush of the same points (a retried pause) stores nothing twice.
        await persistFlushedMetrics(t.db, id, { points10m: [p(200, 99)], points2h: [], points24h: [] });
        assert.deepEqual(await cpu("5m"), [20]);
      });

      it("answers 404 for stopped capsules, other teams' capsules and capsules the agent lost", async () => {
        const a = team();
        const stopped = await insertCapsule(t.db, { teamId: a, status: "stopped" });
        const running = await insertCapsule(t.db, { teamId: a, status: "running", hostId: "h" });
        agentPoints[running] = [1];
        const gone = await insertCapsule(t.db, {
          teamId: a,
          status: "running",
          hostId: "h",
          id: `cl-gone${randomBytes(3).toString("hex")}`,
        });
        for (const [url, who] of [
          [`/v1/capsules/${stopped}/metrics`, a],
          [`/v1/capsules/${running}/metrics`, team()],
          [`/v1/capsules/${gone}/metrics`, a],
          ["/v1/capsules/cl-unknown/metrics", a],
        ] as const) {
          const res = await get(url, who);
          assert.equal(res.statusCode, 404, url);
          assert.equal(res.json().error.code, "not_found", url);
        }
        const bad = await get(`/v1/capsules/${running}/metrics?range=30d`, a);
        assert.equal(bad.statusCode, 400);
      });
    });
  });
}
