import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("team and API key routes", () => {
  let h: Harness;
  let owner: TestUser;
  let other: TestUser;
  before(async () => {
    h = await Harness.start();
    owner = await h.user("owner");
    other = await h.user("other");
  });
  after(() => h.close());

  it("creates API keys shown once, lists by prefix, revokes", async () => {
    const c = await h.req("POST", "/v1/api-keys", { jwt: owner.token }, { name: "ci" });
    assert.equal(c.status, 201);
    assert.match(c.json.key, /^wrn_[0-9a-f]{32}$/);
    assert.equal(c.json.key_prefix, c.json.key.slice(0, 10));
    assert.match(c.json.id, /^key-/);
    const unnamed = await h.req("POST", "/v1/api-keys", { jwt: owner.token });
    assert.equal(unnamed.json.name, "Unnamed API Key");
    assert.equal((await h.req("GET", "/v1/capsules", { key: c.json.key })).status, 200);
    const l = await h.req("GET", "/v1/api-keys", { jwt: owner.token });
    const row = l.json.find((k: { id: string }) => k.id === c.json.id);
    assert.equal(row.key, undefined);
    assert.equal(row.creator_email, owner.email);
    assert.ok(row.last_used, "last_used is recorded");
    const stored = await h.db.db
      .selectFrom("team_api_keys")
      .select("key_hash")
      .where("id", "=", c.json.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(stored.key_hash, c.json.key);
    assert.equal((await h.req("DELETE", `/v1/api-keys/${c.json.id}`, { jwt: owner.token })).status, 204);
    assert.equal((await h.req("GET", "/v1/capsules", { key: c.json.key })).status, 401);
    assert.equal((await h.req("DELETE", `/v1/api-keys/${c.json.id}`, { jwt: owner.token })).status, 404);
    assert.equal((await h.req("POST", "/v1/api-keys", { jwt: owner.token }, { name: 7 })).status, 400);
  });

  it("manages members and roles", async () => {
    const teams = await h.req("GET", "/v1/teams", { jwt: owner.token });
    assert.equal(teams.json[0].role, "owner");
    const add = await h.req("POST", `/v1/teams/${owner.team_id}/members`, { jwt: owner.token }, { email: other.email });
    assert.equal(add.status, 201);
    assert.equal(add.json.role, "member");
    assert.equal(
      (await h.req("POST", `/v1/teams/${owner.team_id}/members`, { jwt: owner.token }, { email: other.email })).status,
      409,
    );
    assert.equal(
      (await h.req("POST", `/v1/teams/${owner.team_id}/members`, { jwt: owner.token }, { email: "ghost@example.com" }))
        .status,
      404,
    );
    const sw = await h.req("POST", "/v1/auth/switch-team", { jwt: other.token }, { team_id: owner.team_id });
    const asMember = { jwt: sw.json.token };
    assert.equal((await h.req("PATCH", `/v1/teams/${owner.team_id}`, asMember, { name: "Nope" })).status, 403);
    assert.equal((await h.req("GET", `/v1/teams/${owner.team_id}`, asMember)).json.members.length, 2);
    assert.equal(
      (await h.req("GET", `/v1/teams/${owner.team_id}`, { jwt: other.token })).status,
      403,
      "not the JWT's team: switch first",
    );
    assert.equal(
      (
        await h.req(
          "PATCH",
          `/v1/teams/${owner.team_id}/members/${other.user_id}`,
          { jwt: owner.token },
          { role: "admin" },
        )
      ).status,
      204,
    );
    assert.equal((await h.req("PATCH", `/v1/teams/${owner.team_id}`, asMember, { name: "Renamed Team" })).status, 204);
    assert.equal(
      (await h.req("PATCH", `/v1/teams/${owner.team_id}/members/${owner.user_id}`, asMember, { role: "member" }))
        .status,
      403,
    );
    assert.equal(
      (
        await h.req(
          "PATCH",
          `/v1/teams/${owner.team_id}/members/${other.user_id}`,
          { jwt: owner.token },
          { role: "owner" },
        )
      ).status,
      400,
    );
    assert.equal((await h.req("DELETE", `/v1/teams/${owner.team_id}/members/${owner.user_id}`, asMember)).status, 403);
    assert.equal((await h.req("POST", `/v1/teams/${owner.team_id}/leave`, { jwt: owner.token })).status, 403);
    assert.equal((await h.req("POST", `/v1/teams/${owner.team_id}/leave`, asMember)).status, 204);
    assert.equal(
      (await h.req("GET", `/v1/teams/${owner.team_id}`, asMember)).status,
      403,
      "membership is re-checked on every request",
    );
    const search = await h.req(
      "GET",
      `/v1/users/search?email=${encodeURIComponent(other.email.slice(0, other.email.indexOf("@") + 2))}`,
      { jwt: owner.token },
    );
    assert.deepEqual(search.json, [{ user_id: other.user_id, email: other.email }]);
    assert.equal((await h.req("GET", "/v1/users/search?email=ab", { jwt: owner.token })).status, 400);
    assert.equal((await h.req("POST", "/v1/teams", { jwt: owner.token }, { name: "<script>" })).status, 400);
  });

  it("deletes a team (owner only) and stops its capsules", async () => {
    const t = await h.req("POST", "/v1/teams", { jwt: owner.token }, { name: "Doomed" });
    const sw = await h.req("POST", "/v1/auth/switch-team", { jwt: owner.token }, { team_id: t.json.id });
    await h.onlineHost(owner);
    const key = await h.apiKey(sw.json);
    const id = await h.capsule(key);
    assert.equal((await h.req("DELETE", `/v1/teams/${t.json.id}`, { jwt: sw.json.token })).status, 204);
    const row = await h.db.db
      .selectFrom("capsules")
      .select(["status", "status_reason"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { status: "stopped", status_reason: "team_deleted" });
    assert.equal((await h.req("GET", "/v1/capsules", { key })).status, 401, "the team's keys are gone");
    assert.ok(
      !(await h.req("GET", "/v1/teams", { jwt: owner.token })).json.some((x: { id: string }) => x.id === t.json.id),
    );
  });
});
