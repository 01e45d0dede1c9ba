import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { newId, PLATFORM_TEAM_ID } from "../../../ids.ts";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("audit log routes", () => {
  let h: Harness;
  let owner: TestUser;
  let member: TestUser;
  let other: TestUser;
  /** The seeded rows of owner's team, newest first (the order pages must follow). */
  let seeded: Array<{ id: string; resource_type: string; action: string; scope: string }>;

  before(async () => {
    h = await Harness.start();
    owner = await h.user("owner"); // first user: platform admin
    member = await h.user("member");
    other = await h.user("other");
    const added = await h.req(
      "POST",
      `/v1/teams/${owner.team_id}/members`,
      { jwt: owner.token },
      { email: member.email },
    );
    assert.equal(added.status, 201, added.body);
    const sw = await h.req("POST", "/v1/auth/switch-team", { jwt: member.token }, { team_id: owner.team_id });
    assert.equal(sw.status, 200, sw.body);
    member = { ...member, token: sw.json.token, team_id: owner.team_id };
    // 37 rows in 2020, in groups of 3 sharing one microsecond timestamp, so pages split ties on the id.
    const rows = Array.from({ length: 37 }, (_, i) => ({
      id: newId("log"),
      team_id: owner.team_id,
      actor_type: "system" as const,
      actor_name: "system",
      resource_type: ["sandbox", "snapshot", "member"][i % 3] as string,
      action: ["create", "delete", "pause"][i % 3] as string,
      scope: i % 3 === 2 ? ("admin" as const) : ("team" as const),
      created_at: `2020-01-01T00:00:${String(Math.floor(i / 3)).padStart(2, "0")}.123456Z`,
      metadata: JSON.stringify({ i }),
    }));
    // Microsecond timestamps go in as SQL text: a JS Date would round them to milliseconds.
    await h.db.db
      .insertInto("audit_logs")
      .values(rows.map((r) => ({ ...r, status: "info" as const, created_at: sql<Date>`${r.created_at}::timestamptz` })))
      .execute();
    await h.db.db
      .insertInto("audit_logs")
      .values({
        id: newId("log"),
        team_id: other.team_id,
        actor_type: "system",
        resource_type: "sandbox",
        action: "create",
        scope: "team",
        status: "info",
        created_at: new Date("2020-01-01T00:00:05Z"),
        metadata: "{}",
      })
      .execute();
    seeded = rows
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
      .map(({ id, resource_type, action, scope }) => ({ id, resource_type, action, scope }));
  });
  after(() => h.close());

  /** Walks every page of `url` (query without cursor) and returns all items plus the page count. */
  async function walk(url: string, token: string) {
    const items: Array<Record<string, unknown>> = [];
    let cursor = "";
    for (let pages = 1; pages < 100; pages++) {
      const r = await h.req("GET", `${url}${cursor}`, { jwt: token });
      assert.equal(r.status, 200, r.body);
      items.push(...r.json.items);
      if (r.json.next_before === null) {
        assert.equal(r.json.next_before_id, null);
        return { items, pages };
      }
      cursor = `&before=${encodeURIComponent(r.json.next_before)}&before_id=${r.json.next_before_id}`;
    }
    throw new Error("pagination did not end");
  }
  const seededOnly = (items: Array<Record<string, unknown>>) =>
    items.filter((i) => String(i.created_at).startsWith("2020-")).map((i) => i.id);

  it("pages the team log newest first with no duplicates or misses, ties split on the id", async () => {
    const { items, pages } = await walk("/v1/audit-logs?limit=5", owner.token);
    const ids = items.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, "no duplicates");
    assert.deepEqual(
      seededOnly(items),
      seeded.map((s) => s.id),
    );
    assert.ok(pages >= 8);
    const first = items.find((i) => i.id === seeded[0]?.id);
    assert.deepEqual(first?.metadata, { i: 36 });
    assert.equal(first?.created_at, "2020-01-01T00:00:12.123456Z");
  });

  it("hides admin-scope rows from members and shows them to owners", async () => {
    const asMember = seededOnly((await walk("/v1/audit-logs?limit=50", member.token)).items);
    assert.deepEqual(
      asMember,
      seeded.filter((s) => s.scope === "team").map((s) => s.id),
    );
    const all = await walk("/v1/audit-logs?limit=50", owner.token);
    assert.ok(all.items.some((i) => i.scope === "admin" && i.resource_type === "member"));
  });

  it("filters on resource_type and action, repeated or comma-separated", async () => {
    const want = seeded.filter((s) => s.resource_type === "sandbox" || s.resource_type === "snapshot").map((s) => s.id);
    for (const q of ["resource_type=sandbox,snapshot", "resource_type=sandbox&resource_type=snapshot"]) {
      assert.deepEqual(seededOnly((await walk(`/v1/audit-logs?limit=4&${q}`, owner.token)).items), want, q);
    }
    const deletes = (await walk("/v1/audit-logs?limit=50&action=delete&resource_type=snapshot", owner.token)).items;
    assert.deepEqual(
      deletes.map((i) => i.id),
      seeded.filter((s) => s.action === "delete").map((s) => s.id),
    );
  });

  it("honours a before cursor alone and the default limit of 50", async () => {
    const r = await h.req("GET", "/v1/audit-logs?before=2020-01-01T00:00:01Z", { jwt: owner.token });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.items.map((i: { id: string }) => i.id),
      seeded.slice(-3).map((s) => s.id),
    );
    assert.equal(r.json.next_before, null);
  });

  it("rejects bad cursors and limits with 400 invalid_request", async () => {
    for (const q of [
      "before=yesterday",
      "before=2020-13-45T00:00:00Z",
      "before=2020-01-01",
      "before=2020-01-01T00:00:00Z&before_id=nope",
      "before_id=log-0000000000000000000000001",
      "limit=0",
      "limit=abc",
      "limit=1.5",
    ]) {
      const r = await h.req("GET", `/v1/audit-logs?${q}`, { jwt: owner.token });
      assert.equal(r.status, 400, `${q}: ${r.body}`);
      assert.equal(r.json.error.code, "invalid_request");
    }
  });

  it("keeps teams apart and needs a JWT; the admin log is the platform team's and admins only", async () => {
    const mine = await walk("/v1/audit-logs?limit=50", other.token);
    assert.ok(mine.items.every((i) => !seeded.some((s) => s.id === i.id)));
    assert.equal(seededOnly(mine.items).length, 1);
    const key = await h.apiKey(owner);
    assert.equal((await h.req("GET", "/v1/audit-logs", { key })).status, 401);
    assert.equal((await h.req("GET", "/v1/admin/audit-logs", { jwt: other.token })).status, 403);
    await h.db.db
      .insertInto("audit_logs")
      .values({
        id: newId("log"),
        team_id: PLATFORM_TEAM_ID,
        actor_type: "system",
        resource_type: "host",
        action: "marked_down",
        scope: "team",
        status: "error",
        metadata: "{}",
      })
      .execute();
    await h.onlineHost(owner);
    const admin = await walk("/v1/admin/audit-logs?limit=2", owner.token);
    assert.ok(admin.items.some((i) => i.action === "marked_down"));
    // Creating a regular host is an admin-scope row of the platform team: the admin log shows both scopes.
    assert.ok(admin.items.some((i) => i.resource_type === "host" && i.action === "create" && i.scope === "admin"));
    assert.ok(admin.items.every((i) => !seeded.some((s) => s.id === i.id)));
  });
});
