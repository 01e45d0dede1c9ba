import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { PLATFORM_TEAM_ID } from "../../../ids.ts";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("admin template routes (/v1/admin/templates)", () => {
  let h: Harness;
  let admin: TestUser;
  let user: TestUser;
  let userKey: string;
  let first: Awaited<ReturnType<Harness["onlineHost"]>>;
  let second: Awaited<ReturnType<Harness["onlineHost"]>>;

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin"); // the first user becomes platform admin
    user = await h.user("ordinary");
    userKey = await h.apiKey(user);
    first = await h.onlineHost(admin, "10.2.0.1:50051", 262_144);
    second = await h.onlineHost(admin, "10.2.0.2:50051");
  });
  after(() => h.close());

  const asAdmin = (method: "GET" | "POST" | "DELETE", url: string, body?: unknown) =>
    h.req(method, url, { jwt: admin.token }, body);
  /** A platform template made through the admin snapshot route. */
  const platformTemplate = async (name: string) => {
    const c = await asAdmin("POST", "/v1/admin/capsules", {});
    assert.equal(c.status, 201, c.body);
    const r = await asAdmin("POST", `/v1/admin/capsules/${c.json.id}/snapshot`, { name });
    assert.equal(r.status, 201, r.body);
  };

  it("lists every template of every team with its owner", async () => {
    await platformTemplate("plat-a");
    const teamCapsule = await h.capsule(userKey, { vcpus: 2, memory_mb: 1024 });
    const snap = await h.req("POST", "/v1/snapshots", { key: userKey }, { sandbox_id: teamCapsule, name: "team-a" });
    assert.equal(snap.status, 201, snap.body);
    const r = await asAdmin("GET", "/v1/admin/templates");
    assert.equal(r.status, 200, r.body);
    const byName = new Map(r.json.map((t: { name: string }) => [t.name, t]));
    assert.deepEqual(Object.keys(byName.get("team-a") ?? {}).sort(), [
      "created_at",
      "memory_mb",
      "name",
      "size_bytes",
      "team_id",
      "type",
      "vcpus",
    ]);
    assert.deepEqual(
      { ...(byName.get("team-a") as object), created_at: undefined },
      {
        name: "team-a",
        type: "snapshot",
        vcpus: 2,
        memory_mb: 1024,
        size_bytes: 123_456_789,
        team_id: user.team_id,
        created_at: undefined,
      },
    );
    assert.equal((byName.get("plat-a") as { team_id: string }).team_id, PLATFORM_TEAM_ID);
    assert.equal((byName.get("minimal") as { type: string }).type, "base");
    const rows = await h.db.db.selectFrom("templates").select("id").execute();
    assert.equal(r.json.length, rows.length);
  });

  it("deletes a platform template from every host holding it and from the database", async () => {
    await platformTemplate("plat-del");
    // A stale copy on another host (an older overwrite) goes too.
    second.agent.snapshots.set(`${PLATFORM_TEAM_ID}/plat-del`, { capsuleId: "cl-old", vcpus: 1, memoryMb: 512 });
    const r = await asAdmin("DELETE", "/v1/admin/templates/plat-del");
    assert.equal(r.status, 204, r.body);
    assert.ok(!first.agent.snapshots.has(`${PLATFORM_TEAM_ID}/plat-del`));
    assert.ok(!second.agent.snapshots.has(`${PLATFORM_TEAM_ID}/plat-del`));
    const list = await h.req("GET", "/v1/snapshots", { key: userKey });
    assert.ok(!list.json.some((t: { name: string }) => t.name === "plat-del"));
    assert.equal((await h.req("POST", "/v1/capsules", { key: userKey }, { template: "plat-del" })).status, 404);
    const audit = await h.db.db
      .selectFrom("audit_logs")
      .selectAll()
      .where("resource_id", "=", "plat-del")
      .where("action", "=", "delete")
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.resource_type, a.scope, a.status, a.team_id, a.actor_id]),
      [["template", "admin", "warning", PLATFORM_TEAM_ID, admin.user_id]],
    );
  });

  it("never deletes minimal or the other seeded base images", async () => {
    for (const name of ["minimal", "python", "node"]) {
      const r = await asAdmin("DELETE", `/v1/admin/templates/${name}`);
      assert.equal(r.status, 403, name);
      assert.equal(r.json.error.code, "forbidden");
    }
    const rows = await h.db.db
      .selectFrom("templates")
      .select("name")
      .where("team_id", "=", PLATFORM_TEAM_ID)
      .where("name", "in", ["minimal", "python", "node"])
      .execute();
    assert.equal(rows.length, 3);
  });

  it("gives 404 for unknown names and for team templates", async () => {
    assert.equal((await asAdmin("DELETE", "/v1/admin/templates/nope")).json.error.code, "not_found");
    const teamCapsule = await h.capsule(userKey);
    await h.req("POST", "/v1/snapshots", { key: userKey }, { sandbox_id: teamCapsule, name: "team-only" });
    const r = await asAdmin("DELETE", "/v1/admin/templates/team-only");
    assert.equal(r.status, 404);
    assert.ok(
      [...first.agent.snapshots.keys(), ...second.agent.snapshots.keys()].includes(`${user.team_id}/team-only`),
    );
  });

  it("keeps the template when the holding host refuses the delete (capsules still use it)", async () => {
    await platformTemplate("plat-busy");
    first.agent.deleteSnapshotError = new ConnectError("template in use", Code.FailedPrecondition);
    try {
      const r = await asAdmin("DELETE", "/v1/admin/templates/plat-busy");
      assert.equal(r.status, 409, r.body);
      assert.equal(r.json.error.code, "conflict");
    } finally {
      first.agent.deleteSnapshotError = undefined;
    }
    const list = await asAdmin("GET", "/v1/admin/templates");
    assert.ok(list.json.some((t: { name: string }) => t.name === "plat-busy"));
  });

  it("refuses non-admins with 403 and API keys with 401", async () => {
    const adminKey = await h.apiKey(admin);
    for (const [method, url] of [
      ["GET", "/v1/admin/templates"],
      ["DELETE", "/v1/admin/templates/plat-a"],
    ] as const) {
      const asUser = await h.req(method, url, { jwt: user.token });
      assert.equal(asUser.status, 403, url);
      assert.equal(asUser.json.error.code, "forbidden");
      assert.equal((await h.req(method, url, { key: adminKey })).status, 401, url);
      assert.equal((await h.req(method, url)).status, 401, url);
    }
    const still = await asAdmin("GET", "/v1/admin/templates");
    assert.ok(still.json.some((t: { name: string }) => t.name === "plat-a"));
  });
});
