import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("snapshot routes (/v1/snapshots)", () => {
  let h: Harness;
  let admin: TestUser;
  let key: string;
  let other: TestUser;
  let otherKey: string;
  let big: Awaited<ReturnType<Harness["onlineHost"]>>;
  let small: Awaited<ReturnType<Harness["onlineHost"]>>;

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    other = await h.user("other");
    otherKey = await h.apiKey(other);
    // Least-loaded prefers the big host, so a capsule on the small one proves the template pinned it there.
    big = await h.onlineHost(admin, "10.1.0.1:50051", 262_144);
    small = await h.onlineHost(admin, "10.1.0.2:50051", 65_536);
    // Half the small host is taken (a row only), so the scheduler's choice is never a tie.
    await h.db.db
      .insertInto("capsules")
      .values({
        id: "cl-ballast",
        team_id: other.team_id,
        host_id: small.hostId,
        template: "minimal",
        status: "running",
        vcpus: 1,
        memory_mb: 32_768,
        timeout_sec: 0,
        disk_size_mb: 5120,
        metadata: "{}",
      })
      .execute();
  });
  after(() => h.close());

  const snapshot = (body: unknown, k = key, query = "") => h.req("POST", `/v1/snapshots${query}`, { key: k }, body);
  const row = (id: string) => h.db.db.selectFrom("capsules").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const templateRow = (name: string, teamId = admin.team_id) =>
    h.db.db
      .selectFrom("templates")
      .selectAll()
      .where("name", "=", name)
      .where("team_id", "=", teamId)
      .executeTakeFirst();

  it("snapshots a running capsule into a team template and leaves the source paused", async () => {
    const id = await h.capsule(key, { vcpus: 2, memory_mb: 1024 });
    const r = await snapshot({ sandbox_id: id, name: "web.v1" });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(
      { ...r.json, created_at: undefined },
      {
        name: "web.v1",
        type: "snapshot",
        vcpus: 2,
        memory_mb: 1024,
        size_bytes: 123_456_789,
        platform: false,
        metadata: { agent_version: "fake", envd_version: "fake" },
        created_at: undefined,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(r.json.created_at)));
    const c = await row(id);
    assert.deepEqual([c.status, c.status_reason, c.lifecycle_op], ["paused", "user", null]);
    assert.ok(big.agent.snapshots.has(`${admin.team_id}/web.v1`));
    assert.equal((await templateRow("web.v1"))?.host_id, big.hostId);
  });

  it("snapshots a paused capsule and names it template-<8 hex> by default", async () => {
    const id = await h.capsule(key);
    await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    const r = await snapshot({ sandbox_id: id });
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.name, /^template-[0-9a-f]{8}$/);
    assert.equal((await row(id)).status, "paused");
  });

  it("rejects platform names, taken names and bad names", async () => {
    const id = await h.capsule(key);
    for (const name of ["minimal", "python", "node"]) {
      const r = await snapshot({ sandbox_id: id, name });
      assert.equal(r.status, 409, name);
      assert.equal(r.json.error.code, "name_reserved");
    }
    assert.equal((await snapshot({ sandbox_id: id, name: "taken" })).status, 201);
    const again = await snapshot({ sandbox_id: id, name: "taken" });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, "template_name_taken");
    for (const name of ["", "-lead", ".dot", "a/b", "../x", "sp ace", "x".repeat(65), "é"]) {
      const r = await snapshot({ sandbox_id: id, name });
      assert.equal(r.status, 400, JSON.stringify(name));
      assert.equal(r.json.error.code, "invalid_request");
    }
    assert.equal((await snapshot({ sandbox_id: id, name: `a${"b".repeat(63)}` })).status, 201, "64 characters");
    assert.equal((await snapshot({ name: "x" })).status, 400, "sandbox_id is required");
    const c = await row(id);
    assert.equal(c.lifecycle_op, null, "failed requests leave no lease behind");
  });

  it("honours ?overwrite=true", async () => {
    const a = await h.capsule(key, { vcpus: 1, memory_mb: 512 });
    const b = await h.capsule(key, { vcpus: 3, memory_mb: 768 });
    assert.equal((await snapshot({ sandbox_id: a, name: "ow" })).status, 201);
    const r = await snapshot({ sandbox_id: b, name: "ow" }, key, "?overwrite=true");
    assert.equal(r.status, 201, r.body);
    assert.deepEqual([r.json.vcpus, r.json.memory_mb], [3, 768]);
    assert.equal(big.agent.snapshots.get(`${admin.team_id}/ow`)?.capsuleId, b);
    const rows = await h.db.db.selectFrom("templates").selectAll().where("name", "=", "ow").execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.source_capsule_id, b);
  });

  it("needs a running or paused capsule of the caller's team", async () => {
    const id = await h.capsule(key);
    await h.req("DELETE", `/v1/capsules/${id}`, { key });
    const stopped = await snapshot({ sandbox_id: id, name: "s1" });
    assert.equal(stopped.status, 409);
    assert.equal(stopped.json.error.code, "invalid_state");
    assert.equal((await snapshot({ sandbox_id: "cl-nope", name: "s2" })).status, 404);
    const mine = await h.capsule(key);
    const theirs = await snapshot({ sandbox_id: mine, name: "s3" }, otherKey);
    assert.equal(theirs.status, 404);
    assert.equal(theirs.json.error.code, "not_found");
  });

  it("puts a capsule back to running when the agent's snapshot fails, and stores no template", async () => {
    const id = await h.capsule(key);
    big.agent.snapshotError = new ConnectError("no space left", Code.ResourceExhausted);
    try {
      const r = await snapshot({ sandbox_id: id, name: "broken" });
      assert.equal(r.status, 502);
      assert.equal(r.json.error.code, "agent_error");
    } finally {
      big.agent.snapshotError = undefined;
    }
    const c = await row(id);
    assert.deepEqual([c.status, c.lifecycle_op], ["running", null]);
    assert.equal(big.agent.capsules.get(id)?.status, hostagent.CapsuleStatus.RUNNING);
    assert.equal(await templateRow("broken"), undefined);
  });

  it("lists platform templates and the team's own, filtered by type, never another team's", async () => {
    const id = await h.capsule(key);
    await snapshot({ sandbox_id: id, name: "listed" });
    const all = await h.req("GET", "/v1/snapshots", { key });
    assert.equal(all.status, 200);
    const names = all.json.map((t: { name: string }) => t.name);
    assert.deepEqual(names.slice(0, 3), ["minimal", "node", "python"]);
    assert.ok(names.includes("listed"));
    for (const t of all.json.slice(0, 3)) assert.deepEqual([t.type, t.platform], ["base", true]);
    const snaps = await h.req("GET", "/v1/snapshots?type=snapshot", { key });
    assert.ok(snaps.json.every((t: { type: string; platform: boolean }) => t.type === "snapshot" && !t.platform));
    assert.ok(snaps.json.some((t: { name: string }) => t.name === "listed"));
    const base = await h.req("GET", "/v1/snapshots?type=base", { key });
    assert.deepEqual(
      base.json.map((t: { name: string }) => t.name),
      ["minimal", "node", "python"],
    );
    const theirs = await h.req("GET", "/v1/snapshots", { key: otherKey });
    assert.deepEqual(
      theirs.json.map((t: { name: string }) => t.name),
      ["minimal", "node", "python"],
    );
    assert.equal((await h.req("GET", "/v1/snapshots?type=other", { key })).status, 400);
    assert.equal((await h.req("GET", "/v1/snapshots")).status, 401);
  });

  it("creates capsules from a team snapshot on the host holding it, with the template's shape", async () => {
    const src = await h.capsule(key, { vcpus: 2, memory_mb: 1024 });
    // Make the source land on the small host: pin by snapshotting there.
    await h.db.db.updateTable("capsules").set({ host_id: small.hostId }).where("id", "=", src).execute();
    small.agent.capsules.set(src, big.agent.capsules.get(src)!);
    big.agent.capsules.delete(src);
    assert.equal((await snapshot({ sandbox_id: src, name: "warm" })).status, 201);
    assert.equal((await templateRow("warm"))?.host_id, small.hostId);
    const r = await h.req("POST", "/v1/capsules", { key }, { template: "warm", vcpus: 4, memory_mb: 4096 });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual([r.json.template, r.json.vcpus, r.json.memory_mb], ["warm", 2, 1024]);
    assert.equal((await row(r.json.id)).host_id, small.hostId);
    const req = small.agent.createRequests.at(-1);
    assert.deepEqual([req?.template, req?.teamId, req?.vcpus, req?.memoryMb], ["warm", admin.team_id, 2, 1024]);
    // Another team cannot start from it, and unknown templates are 404.
    const theirs = await h.req("POST", "/v1/capsules", { key: otherKey }, { template: "warm" });
    assert.equal(theirs.status, 404);
    assert.equal((await h.req("POST", "/v1/capsules", { key }, { template: "nope" })).status, 404);
  });

  it("answers 503 when the host holding the template is not online", async () => {
    const src = await h.capsule(key);
    assert.equal((await snapshot({ sandbox_id: src, name: "stranded" })).status, 201);
    await h.db.db.updateTable("hosts").set({ status: "unreachable" }).where("id", "=", big.hostId).execute();
    try {
      const r = await h.req("POST", "/v1/capsules", { key }, { template: "stranded" });
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, "host_unavailable");
    } finally {
      await h.db.db.updateTable("hosts").set({ status: "online" }).where("id", "=", big.hostId).execute();
    }
  });

  it("deletes a team template on every online host; 403 for platform ones, 404 across teams", async () => {
    const id = await h.capsule(key);
    assert.equal((await snapshot({ sandbox_id: id, name: "gone" })).status, 201);
    for (const name of ["minimal", "python", "node"]) {
      const r = await h.req("DELETE", `/v1/snapshots/${name}`, { key });
      assert.equal(r.status, 403, name);
      assert.equal(r.json.error.code, "forbidden");
    }
    const theirs = await h.req("DELETE", "/v1/snapshots/gone", { key: otherKey });
    assert.equal(theirs.status, 404);
    const before = [big.agent.calls.length, small.agent.calls.length];
    const d = await h.req("DELETE", "/v1/snapshots/gone", { key });
    assert.equal(d.status, 204, d.body);
    assert.ok(big.agent.calls.slice(before[0]).includes("deleteSnapshot"));
    assert.ok(small.agent.calls.slice(before[1]).includes("deleteSnapshot"), "every online host is asked");
    assert.ok(!big.agent.snapshots.has(`${admin.team_id}/gone`));
    assert.equal(await templateRow("gone"), undefined);
    assert.equal((await h.req("DELETE", "/v1/snapshots/gone", { key })).status, 404);
  });

  it("keeps the template when the host holding it refuses the delete", async () => {
    const id = await h.capsule(key);
    assert.equal((await snapshot({ sandbox_id: id, name: "inuse" })).status, 201);
    big.agent.deleteSnapshotError = new ConnectError("template in use by 2 capsules", Code.FailedPrecondition);
    try {
      const r = await h.req("DELETE", "/v1/snapshots/inuse", { key });
      assert.equal(r.status, 409);
      assert.equal(r.json.error.message, "template in use by 2 capsules");
    } finally {
      big.agent.deleteSnapshotError = undefined;
    }
    assert.ok(await templateRow("inuse"));
  });

  it("documents the snapshot and metrics routes in the OpenAPI document", async () => {
    const r = await h.req("GET", "/openapi.yaml");
    assert.equal(r.status, 200);
    for (const path of [
      "/v1/snapshots:",
      "/v1/snapshots/{name}:",
      "/v1/capsules/stats:",
      "/v1/capsules/{id}/metrics:",
    ]) {
      assert.ok(r.body.includes(path), path);
    }
  });

  it("removes a deleted team's templates and metrics", async () => {
    const owner = await h.user("owner");
    const k = await h.apiKey(owner);
    const id = await h.capsule(k);
    assert.equal((await snapshot({ sandbox_id: id, name: "teamtpl" }, k)).status, 201);
    await h.db.db
      .insertInto("sandbox_metrics_snapshots")
      .values({ team_id: owner.team_id, running_count: 1, vcpus_reserved: 1, memory_mb_reserved: 512 })
      .execute();
    const d = await h.req("DELETE", `/v1/teams/${owner.team_id}`, { jwt: owner.token });
    assert.equal(d.status, 204, d.body);
    assert.equal(await templateRow("teamtpl", owner.team_id), undefined);
    assert.ok(!big.agent.snapshots.has(`${owner.team_id}/teamtpl`));
    const samples = await h.db.db
      .selectFrom("sandbox_metrics_snapshots")
      .select("id")
      .where("team_id", "=", owner.team_id)
      .execute();
    assert.equal(samples.length, 0);
    assert.equal((await row(id)).status_reason, "team_deleted");
  });
});
