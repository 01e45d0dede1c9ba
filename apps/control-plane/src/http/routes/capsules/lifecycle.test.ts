import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import { Harness, type TestUser } from "../../../testing/harness.ts";

/** Polls `check` until it returns true, failing after `deadlineMs` (activity is recorded without delaying answers). */
async function eventually(what: string, check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("capsule lifecycle (pause, resume, ping, activity, metrics)", () => {
  let h: Harness;
  let admin: TestUser;
  let key: string;
  let host: Awaited<ReturnType<Harness["onlineHost"]>>;

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    host = await h.onlineHost(admin);
  });
  after(() => h.close());

  const row = (id: string) => h.db.db.selectFrom("capsules").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const agentStatus = (id: string) => host.agent.capsules.get(id)?.status;
  const points = (id: string) =>
    h.db.db.selectFrom("sandbox_metric_points").select(["tier"]).where("sandbox_id", "=", id).execute();

  it("records reasons: user on create, pause and resume; a new host_ip on resume", async () => {
    const id = await h.capsule(key);
    assert.equal((await row(id)).status_reason, "user");
    const p = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    assert.equal(p.status, 200, p.body);
    assert.deepEqual([p.json.status, p.json.status_reason], ["paused", "user"]);
    assert.equal(agentStatus(id), hostagent.CapsuleStatus.PAUSED);
    const r = await h.req("POST", `/v1/capsules/${id}/resume`, { key });
    assert.deepEqual([r.json.status, r.json.status_reason, r.json.host_ip], ["running", "user", "127.0.0.1:40001"]);
    assert.ok(Date.parse(r.json.started_at) >= Date.parse(p.json.last_updated));
  });

  it("stores every metric tier on pause, serves them while paused, and keeps only 24h after destroy", async () => {
    const id = await h.capsule(key);
    await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    assert.deepEqual((await points(id)).map((p) => p.tier).sort(), ["10m", "24h", "2h"]);
    const m = await h.req("GET", `/v1/capsules/${id}/metrics?range=10m`, { key });
    assert.equal(m.status, 200, m.body);
    assert.equal(m.json.points.length, 1);
    assert.equal(m.json.points[0].cpu_pct, 12.5);
    assert.equal((await h.req("DELETE", `/v1/capsules/${id}`, { key })).status, 204);
    assert.deepEqual(
      (await points(id)).map((p) => p.tier),
      ["24h"],
    );
    assert.equal((await h.req("GET", `/v1/capsules/${id}/metrics`, { key })).status, 404);
  });

  it("flushes the 24h tier when a running capsule is destroyed", async () => {
    const id = await h.capsule(key);
    await h.req("DELETE", `/v1/capsules/${id}`, { key });
    assert.deepEqual(
      (await points(id)).map((p) => p.tier),
      ["24h"],
    );
    assert.ok(host.agent.calls.lastIndexOf("flushCapsuleMetrics") < host.agent.calls.lastIndexOf("destroyCapsule"));
  });

  it("reverts a failed pause to running, with the error as reason, when the agent still runs it", async () => {
    const id = await h.capsule(key);
    host.agent.pauseError = new ConnectError("disk full", Code.Internal);
    try {
      const p = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
      assert.equal(p.status, 502);
      assert.equal(p.json.error.code, "agent_error");
    } finally {
      host.agent.pauseError = undefined;
    }
    const r = await row(id);
    assert.equal(r.status, "running");
    assert.match(r.status_reason, /^error: pause failed: disk full/);
    assert.equal(agentStatus(id), hostagent.CapsuleStatus.RUNNING);
    const exec = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "echo", args: ["still", "here"] });
    assert.equal(exec.json.stdout, "still here\n", "the capsule stays usable");
  });

  it("keeps a pause the agent finished even when its answer was an error", async () => {
    const id = await h.capsule(key);
    host.agent.pauseError = new ConnectError("deadline exceeded", Code.DeadlineExceeded);
    host.agent.pauseErrorLeaves = "paused";
    try {
      const p = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
      assert.equal(p.status, 200, p.body);
      assert.equal(p.json.status, "paused");
    } finally {
      host.agent.pauseError = undefined;
      host.agent.pauseErrorLeaves = undefined;
    }
    assert.equal((await row(id)).status, "paused");
  });

  it("marks a capsule the agent lost during a pause stopped", async () => {
    const id = await h.capsule(key);
    host.agent.pauseError = new ConnectError("qemu died", Code.Internal);
    host.agent.pauseErrorLeaves = "gone";
    try {
      assert.equal((await h.req("POST", `/v1/capsules/${id}/pause`, { key })).status, 502);
    } finally {
      host.agent.pauseError = undefined;
      host.agent.pauseErrorLeaves = undefined;
    }
    const r = await row(id);
    assert.equal(r.status, "stopped");
    assert.match(r.status_reason, /^error: pause failed: qemu died/);
  });

  it("leaves a capsule paused when its resume fails, and running when the agent resumed it anyway", async () => {
    const id = await h.capsule(key);
    await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    host.agent.resumeError = new ConnectError("restore failed", Code.Internal);
    try {
      const r = await h.req("POST", `/v1/capsules/${id}/resume`, { key });
      assert.equal(r.status, 502);
      assert.equal((await row(id)).status, "paused");
      assert.equal(agentStatus(id), hostagent.CapsuleStatus.PAUSED);
      host.agent.resumeErrorLeaves = "running";
      const again = await h.req("POST", `/v1/capsules/${id}/resume`, { key });
      assert.equal(again.status, 200, again.body);
      assert.deepEqual([again.json.status, again.json.host_ip], ["running", "127.0.0.1:40002"]);
    } finally {
      host.agent.resumeError = undefined;
      host.agent.resumeErrorLeaves = undefined;
    }
  });

  it("reverts the pre-mark when the agent is unreachable", async () => {
    const id = await h.capsule(key);
    host.agent.down = true;
    try {
      const p = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
      assert.equal(p.status, 503);
    } finally {
      host.agent.down = false;
    }
    assert.equal((await row(id)).status, "running");
  });

  it("bumps last_active_at on exec, process and file calls and ping, but not on GET", async () => {
    const id = await h.capsule(key);
    const old = new Date("2020-01-01T00:00:00Z");
    const calls: Array<[string, string, unknown?]> = [
      ["POST", `/v1/capsules/${id}/exec`, { cmd: "echo" }],
      ["GET", `/v1/capsules/${id}/processes`],
      ["POST", `/v1/capsules/${id}/files/list`, { path: "/" }],
      ["POST", `/v1/capsules/${id}/files/mkdir`, { path: "/d" }],
      ["POST", `/v1/capsules/${id}/ping`],
    ];
    for (const [method, url, body] of calls) {
      await h.db.db.updateTable("capsules").set({ last_active_at: old }).where("id", "=", id).execute();
      const r = await h.req(method as "GET" | "POST", url, { key }, body);
      assert.ok(r.status < 300, `${method} ${url}: ${r.body}`);
      await eventually(`last_active_at after ${url}`, async () => {
        const at = (await row(id)).last_active_at;
        return at !== null && at.getTime() > old.getTime();
      });
    }
    await h.db.db.updateTable("capsules").set({ last_active_at: old }).where("id", "=", id).execute();
    await h.req("GET", `/v1/capsules/${id}`, { key });
    await h.req("GET", `/v1/capsules/${id}/metrics`, { key });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await row(id)).last_active_at?.getTime(), old.getTime(), "reads are not activity");
  });

  it("never leaves the database and the agent disagreeing when pause, resume, exec and destroy race", async () => {
    host.agent.jitterMs = 15;
    // Each request starts at a random moment within 60 ms, so every order of arrival gets tried.
    const staggered = <T>(op: () => Promise<T>) => new Promise<void>((r) => setTimeout(r, Math.random() * 60)).then(op);
    try {
      await raceRounds(staggered);
    } finally {
      host.agent.jitterMs = 0;
    }
  });

  async function raceRounds(staggered: <T>(op: () => Promise<T>) => Promise<T>) {
    for (let round = 0; round < 12; round++) {
      const id = await h.capsule(key);
      const ops = [
        () => h.req("POST", `/v1/capsules/${id}/pause`, { key }),
        () => h.req("POST", `/v1/capsules/${id}/resume`, { key }),
        () => h.req("POST", `/v1/capsules/${id}/pause`, { key }),
        () => h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "echo" }),
        () => h.req("POST", `/v1/capsules/${id}/resume`, { key }),
      ];
      // Destroy joins at a different point each round.
      ops.splice(round % (ops.length + 1), 0, () => h.req("DELETE", `/v1/capsules/${id}`, { key }));
      const results = await Promise.all(ops.map((op) => staggered(op)));
      for (const r of results) assert.ok(r.status < 500, `unexpected ${r.status}: ${r.body}`);
      const r = await row(id);
      assert.equal(r.status, "stopped", `round ${round}: destroy is final`);
      assert.equal(agentStatus(id), undefined, `round ${round}: no VM outlives its row`);
    }
    for (let round = 0; round < 12; round++) {
      const id = await h.capsule(key);
      await Promise.all([
        staggered(() => h.req("POST", `/v1/capsules/${id}/pause`, { key })),
        staggered(() => h.req("POST", `/v1/capsules/${id}/pause`, { key })),
        staggered(() => h.req("POST", `/v1/capsules/${id}/resume`, { key })),
        staggered(() => h.req("POST", `/v1/capsules/${id}/resume`, { key })),
        staggered(() => h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "echo" })),
      ]);
      const r = await row(id);
      const expected = r.status === "paused" ? hostagent.CapsuleStatus.PAUSED : hostagent.CapsuleStatus.RUNNING;
      assert.ok(["paused", "running"].includes(r.status), r.status);
      assert.equal(agentStatus(id), expected, `round ${round}: database says ${r.status}`);
    }
  }
});
