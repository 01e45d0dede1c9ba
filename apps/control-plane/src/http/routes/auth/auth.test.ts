import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness } from "../../../testing/harness.ts";

describe("auth routes", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(() => h.close());

  it("signs up inactive, activates with the mailed token, and makes the first user admin", async () => {
    const s = await h.req("POST", "/v1/auth/signup", undefined, {
      email: "First@Example.com",
      password: "password123",
      name: "First",
    });
    assert.equal(s.status, 201);
    assert.ok(s.json.message);
    const login = await h.req("POST", "/v1/auth/login", undefined, {
      email: "first@example.com",
      password: "password123",
    });
    assert.equal(login.status, 403);
    assert.equal(login.json.error.code, "account_not_activated");
    const again = await h.req("POST", "/v1/auth/signup", undefined, {
      email: "first@example.com",
      password: "password123",
      name: "First",
    });
    assert.equal(again.json.error.code, "signup_cooldown");
    const token = /Activation token: ([0-9a-f]{32})/.exec(h.mail.at(-1)!.text)![1];
    const a = await h.req("POST", "/v1/auth/activate", undefined, { token });
    assert.equal(a.status, 200, a.body);
    assert.equal(a.json.email, "first@example.com");
    assert.match(a.json.team_id, /^team-/);
    const claims = JSON.parse(Buffer.from(a.json.token.split(".")[1], "base64url").toString());
    assert.equal(claims.is_admin, true);
    assert.equal(claims.role, "owner");
    assert.equal(claims.exp - claims.iat, 6 * 3600);
    const reuse = await h.req("POST", "/v1/auth/activate", undefined, { token });
    assert.equal(reuse.json.error.code, "invalid_token");
    const taken = await h.req("POST", "/v1/auth/signup", undefined, {
      email: "first@example.com",
      password: "password123",
      name: "X",
    });
    assert.equal(taken.json.error.code, "email_taken");
    const me = await h.req("GET", "/v1/me", { jwt: a.json.token });
    assert.deepEqual(me.json, { name: "First", email: "first@example.com", has_password: true, providers: [] });
    const second = await h.user("second");
    const c2 = JSON.parse(Buffer.from(second.token.split(".")[1] ?? "", "base64url").toString());
    assert.equal(c2.is_admin, undefined, "only the first user is admin");
  });

  it("logs in, rejects wrong passwords and bad input", async () => {
    const u = await h.user("carol");
    const ok = await h.req("POST", "/v1/auth/login", undefined, {
      email: u.email.toUpperCase(),
      password: "password123",
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.team_id, u.team_id);
    const bad = await h.req("POST", "/v1/auth/login", undefined, { email: u.email, password: "nope-nope" });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.code, "wrong_password");
    for (const body of [
      {},
      { email: "x@y.z", password: "short", name: "n" },
      { email: "not-an-email", password: "password123", name: "n" },
      { email: "a@b.co", password: "password123", name: "" },
    ]) {
      const r = await h.req("POST", "/v1/auth/signup", undefined, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, "invalid_request");
    }
    const huge = await h.app.inject({
      method: "POST",
      url: "/v1/auth/login",
      headers: { "content-type": "application/json" },
      payload: `{"email":"${"a".repeat(11 * 1024 * 1024)}"}`,
    });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().error.code, "too_large");
  });

  it("switches teams, renames, changes and resets passwords", async () => {
    const u = await h.user("dave");
    const t = await h.req("POST", "/v1/teams", { jwt: u.token }, { name: "Side Project" });
    assert.equal(t.status, 201);
    const sw = await h.req("POST", "/v1/auth/switch-team", { jwt: u.token }, { team_id: t.json.id });
    assert.equal(sw.status, 200);
    assert.equal(sw.json.team_id, t.json.id);
    const rn = await h.req("PATCH", "/v1/me", { jwt: sw.json.token }, { name: "David" });
    assert.equal(rn.json.name, "David");
    assert.equal(rn.json.team_id, t.json.id);
    const cp = await h.req(
      "POST",
      "/v1/me/password",
      { jwt: u.token },
      { current_password: "wrong", new_password: "newpassword1" },
    );
    assert.equal(cp.json.error.code, "wrong_password");
    assert.equal(
      (
        await h.req(
          "POST",
          "/v1/me/password",
          { jwt: u.token },
          { current_password: "password123", new_password: "newpassword1" },
        )
      ).status,
      204,
    );
    assert.equal(
      (await h.req("POST", "/v1/auth/login", undefined, { email: u.email, password: "newpassword1" })).status,
      200,
    );
    assert.equal(
      (await h.req("POST", "/v1/me/password/reset", undefined, { email: "nobody@example.com" })).status,
      204,
    );
    assert.equal((await h.req("POST", "/v1/me/password/reset", undefined, { email: u.email })).status, 204);
    const token = /Reset token: ([0-9a-f]{32})/.exec(h.mail.at(-1)!.text)![1];
    assert.equal(
      (await h.req("POST", "/v1/me/password/reset/confirm", undefined, { token, new_password: "resetpass1" })).status,
      204,
    );
    assert.equal(
      (await h.req("POST", "/v1/auth/login", undefined, { email: u.email, password: "resetpass1" })).status,
      200,
    );
  });

  it("rejects missing, malformed and forged credentials", async () => {
    assert.equal((await h.req("GET", "/v1/me")).status, 401);
    assert.equal((await h.req("GET", "/v1/me", undefined, undefined, { authorization: "Basic abc" })).status, 401);
    assert.equal((await h.req("GET", "/v1/me", { jwt: "a.b.c" })).status, 401);
    assert.equal((await h.req("GET", "/v1/capsules", { key: "wrn_nothex" })).status, 401);
    const r = await h.req("GET", "/v1/nowhere");
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, "not_found");
  });

  it("disables and deletes accounts", async () => {
    const admin = await h.req("POST", "/v1/auth/login", undefined, {
      email: "first@example.com",
      password: "password123",
    });
    const u = await h.user("erin");
    assert.equal(
      (await h.req("PUT", `/v1/admin/users/${u.user_id}/active`, { jwt: admin.json.token }, { active: false })).status,
      204,
    );
    const me = await h.req("GET", "/v1/me", { jwt: u.token });
    assert.equal(me.json.error.code, "account_deactivated");
    assert.equal(
      (await h.req("POST", "/v1/auth/login", undefined, { email: u.email, password: "password123" })).json.error.code,
      "account_disabled",
    );
    const v = await h.user("frank");
    assert.equal((await h.req("DELETE", "/v1/me", { jwt: v.token }, { confirmation: "wrong" })).status, 400);
    assert.equal((await h.req("DELETE", "/v1/me", { jwt: v.token }, { confirmation: v.email })).status, 204);
    assert.equal((await h.req("GET", "/v1/me", { jwt: v.token })).status, 401);
    const list = await h.req("GET", "/v1/admin/users", { jwt: admin.json.token });
    assert.ok(
      list.json.users.some((x: { id: string; status: string }) => x.id === u.user_id && x.status === "disabled"),
    );
    assert.ok(!list.json.users.some((x: { id: string }) => x.id === v.user_id));
  });
});
