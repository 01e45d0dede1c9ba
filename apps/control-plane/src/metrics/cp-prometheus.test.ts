import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { errors } from "../errors.ts";
import { cpPrometheusPlugin, createCpMetrics } from "./cp-prometheus.ts";
import { buildTestApp } from "./testing/test-app.ts";
import { insertCapsule, openPglite, type TestDb } from "./testing/test-db.ts";

describe("control plane /metrics", () => {
  let t: TestDb;
  let app: FastifyInstance;
  before(async () => {
    t = await openPglite();
    const metrics = createCpMetrics(t.db);
    app = await buildTestApp(
      {
        db: t.db,
        findCapsule: async (id) => {
          throw errors.capsuleNotFound(id);
        },
      },
      async (a) => {
        await a.register(cpPrometheusPlugin, { metrics });
      },
    );
  });
  after(async () => {
    await app?.close();
    await t?.close();
  });

  it("counts requests by route template and status, times them, counts error codes and capsules by state", async () => {
    const teamId = `team-${randomBytes(4).toString("hex")}`;
    await insertCapsule(t.db, { teamId, status: "running" });
    await insertCapsule(t.db, { teamId, status: "running" });
    await insertCapsule(t.db, { teamId, status: "paused" });
    for (const id of ["cl-a", "cl-b"]) {
      await app.inject({ method: "GET", url: `/v1/capsules/${id}/metrics`, headers: { "x-test-team": teamId } });
    }
    await app.inject({ method: "GET", url: "/v1/capsules/stats?range=5m", headers: { "x-test-team": teamId } });
    await app.inject({ method: "GET", url: "/v1/capsules/stats?range=bad", headers: { "x-test-team": teamId } });
    const res = await app.inject({ method: "GET", url: "/metrics" });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    const text = res.body;
    assert.match(
      text,
      /^wrenn_cp_http_requests_total\{method="GET",route="\/v1\/capsules\/:id\/metrics",status="404"\} 2$/m,
      "one series per route template, not per capsule id",
    );
    assert.match(text, /^wrenn_cp_http_requests_total\{method="GET",route="\/v1\/capsules\/stats",status="200"\} 1$/m);
    assert.match(text, /^wrenn_cp_http_requests_total\{method="GET",route="\/v1\/capsules\/stats",status="400"\} 1$/m);
    assert.match(
      text,
      /^wrenn_cp_http_request_duration_seconds_count\{method="GET",route="\/v1\/capsules\/stats"\} 2$/m,
    );
    assert.match(text, /^wrenn_cp_errors_total\{code="not_found"\} 2$/m);
    assert.match(text, /^wrenn_cp_errors_total\{code="invalid_request"\} 1$/m);
    assert.match(text, /^wrenn_cp_capsules\{state="running"\} 2$/m);
    assert.match(text, /^wrenn_cp_capsules\{state="paused"\} 1$/m);
    assert.match(text, /^wrenn_cp_capsules\{state="error"\} 0$/m);
    assert.doesNotMatch(text, /route="\/metrics"/, "scrapes are not counted");
  });

  it("requires the bearer token when one is configured", async () => {
    const metrics = createCpMetrics(t.db);
    const locked = await buildTestApp({ db: t.db, findCapsule: async () => undefined }, async (a) => {
      await a.register(cpPrometheusPlugin, { metrics, token: "s3cret" });
    });
    try {
      assert.equal((await locked.inject({ method: "GET", url: "/metrics" })).statusCode, 401);
      const ok = await locked.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer s3cret" } });
      assert.equal(ok.statusCode, 200);
    } finally {
      await locked.close();
    }
  });
});
