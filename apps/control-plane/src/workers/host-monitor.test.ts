import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hostagent } from "@wrenn/protocol";
import pino from "pino";
import { AgentPool } from "../agents/agent-pool.ts";
import { openDatabase } from "../db/database.ts";
import { Harness, type TestUser } from "../testing/harness.ts";
import type { openTestDatabase } from "../testing/test-db.ts";
import { createHostMonitor } from "./host-monitor.ts";
import { LockedInterval } from "./locked-interval.ts";

describe("host monitor", () => {
  let h: Harness;
  let admin: TestUser;
  let key: string;
  let monitor: ReturnType<typeof createHostMonitor>;
  const log = pino({ level: "silent" });

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    monitor = createHostMonitor({ db: h.db.db, agents: new AgentPool(h.fleet.factory), audit: h.services.audit, log });
  });
  after(() => h.close());

  /** Takes every other host out of scheduling so new capsules land on `hostId`. */
  const only = (hostId: string) =>
    h.db.db.updateTable("hosts").set({ status: "offline" }).where("id", "!=", hostId).execute();
  const status = async (id: string) => (await h.req("GET", `/v1/capsules/${id}`, { key })).json;
  const hostStatus = async (id: string) => (await h.req("GET", `/v1/hosts/${id}`, { jwt: admin.token })).json.status;

  it("marks a silent host unreachable and its capsules missing, and restores both when it returns", async () => {
    const { hostId, creds } = await h.onlineHost(admin);
    const id = await h.capsule(key);
    await monitor.run();
    assert.equal(await hostStatus(hostId), "online", "a fresh heartbeat keeps it online");
    await h.db.db
      .updateTable("hosts")
      .set({ last_heartbeat_at: new Date(Date.now() - 91_000) })
      .where("id", "=", hostId)
      .execute();
    await monitor.run();
    assert.equal(await hostStatus(hostId), "unreachable");
    const c = await status(id);
    assert.equal(c.status, "missing");
    assert.equal(c.status_reason, "host_lost");
    const ex = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "echo" });
    assert.equal(ex.status, 409);
    const hb = await h.req("POST", `/v1/hosts/${hostId}/heartbeat`, undefined, {}, { "x-host-token": creds.token });
    assert.equal(hb.status, 204);
    assert.equal(await hostStatus(hostId), "online");
    await monitor.run();
    assert.equal((await status(id)).status, "running");
  });

  it("uses the configured heartbeat timeout instead of 90 s", async () => {
    const { hostId } = await h.onlineHost(admin);
    const strict = createHostMonitor({
      db: h.db.db,
      agents: new AgentPool(h.fleet.factory),
      audit: h.services.audit,
      log,
      heartbeatTimeoutMs: 20_000,
    });
    const silentFor = (ms: number) =>
      h.db.db
        .updateTable("hosts")
        .set({ last_heartbeat_at: new Date(Date.now() - ms) })
        .where("id", "=", hostId)
        .execute();
    await silentFor(15_000);
    await strict.run();
    assert.equal(await hostStatus(hostId), "online", "15 s of silence is within a 20 s timeout");
    await silentFor(25_000);
    await monitor.run();
    assert.equal(await hostStatus(hostId), "online", "the default monitor still waits 90 s");
    await strict.run();
    assert.equal(await hostStatus(hostId), "unreachable");
  });

  it("fixes drift: vanished capsules stop, auto-paused ones pause, strays are destroyed", async () => {
    const { agent, hostId } = await h.onlineHost(admin, "10.7.0.1:50051");
    await only(hostId);
    const gone = await h.capsule(key);
    const napping = await h.capsule(key);
    const pausedByAgent = await h.capsule(key);
    assert.ok(agent.capsules.has(gone) && agent.capsules.has(napping) && agent.capsules.has(pausedByAgent));
    agent.capsules.delete(gone);
    agent.capsules.delete(napping);
    agent.autoPaused.push(napping);
    agent.capsules.get(pausedByAgent)!.status = hostagent.CapsuleStatus.PAUSED;
    agent.capsules.set("cl-stray000000000000000000000", {
      ...agent.capsules.get(pausedByAgent)!,
      capsuleId: "cl-stray000000000000000000000",
    });
    await monitor.run();
    assert.deepEqual([(await status(gone)).status, (await status(gone)).status_reason], ["stopped", "host_lost"]);
    assert.deepEqual([(await status(napping)).status, (await status(napping)).status_reason], ["paused", "timeout"]);
    const autoPause = await h.db.db
      .selectFrom("audit_logs")
      .select(["actor_type", "action", "status", "team_id"])
      .where("resource_id", "=", napping)
      .where("action", "=", "pause")
      .execute();
    assert.deepEqual(autoPause, [{ actor_type: "system", action: "pause", status: "info", team_id: admin.team_id }]);
    assert.equal((await status(pausedByAgent)).status, "paused");
    assert.ok(!agent.capsules.has("cl-stray000000000000000000000"), "the stray VM was destroyed");
  });

  it("treats a failing ListCapsules as transient", async () => {
    const { agent, hostId } = await h.onlineHost(admin, "10.7.0.2:50051");
    await only(hostId);
    const id = await h.capsule(key);
    agent.down = true;
    await monitor.run();
    agent.down = false;
    assert.equal((await status(id)).status, "running");
  });

  it("runs a locked job in only one of two sessions (PostgreSQL)", {
    skip: !process.env.WRENN_TEST_DATABASE_URL && "needs WRENN_TEST_DATABASE_URL",
  }, async () => {
    const url = (h.db as Awaited<ReturnType<typeof openTestDatabase>>).url!;
    const a = await openDatabase({ url, poolSize: 1 });
    const b = await openDatabase({ url, poolSize: 1 });
    try {
      let runs = 0;
      const job = (locks: typeof a.locks) =>
        new LockedInterval({ name: "t", lockKey: 99, intervalMs: 60_000, locks, log, run: async () => void runs++ });
      const ja = job(a.locks);
      const jb = job(b.locks);
      assert.equal(await ja.tick(), true);
      assert.equal(await jb.tick(), false);
      assert.equal(await ja.tick(), true, "the holder keeps the lock");
      assert.equal(runs, 2);
      await a.locks.close(); // the holder's session ends: the other takes over
      assert.equal(await jb.tick(), true);
      assert.equal(runs, 3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
