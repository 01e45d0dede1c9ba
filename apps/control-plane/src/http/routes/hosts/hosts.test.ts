import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("host routes", () => {
  let h: Harness;
  let admin: TestUser;
  let member: TestUser;

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin");
    member = await h.user("member");
  });
  after(() => h.close());

  it("creates a pending host with a one-time registration token and registers it", async () => {
    const c = await h.req("POST", "/v1/hosts", { jwt: admin.token }, { type: "regular", provider: "hetzner" });
    assert.equal(c.status, 201, c.body);
    assert.match(c.json.host.id, /^host-[0-9a-z]{25}$/);
    assert.equal(c.json.host.status, "pending");
    assert.match(c.json.registration_token, /^[0-9a-f]{64}$/);
    const specs = { arch: "amd64", cpu_cores: 8, memory_mb: 32768, disk_gb: 200, address: "10.1.0.5:50051" };
    const r = await h.req("POST", "/v1/hosts/register", undefined, { token: c.json.registration_token, ...specs });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.host.status, "online");
    assert.equal(r.json.host.address, "10.1.0.5:50051");
    assert.match(r.json.agent_key, /^[0-9a-f]{64}$/);
    assert.match(r.json.refresh_token, /^[0-9a-f]{64}$/);
    const claims = JSON.parse(Buffer.from(r.json.token.split(".")[1], "base64url").toString());
    assert.equal(claims.typ, "host");
    assert.equal(claims.host_id, c.json.host.id);
    const again = await h.req("POST", "/v1/hosts/register", undefined, { token: c.json.registration_token, ...specs });
    assert.equal(again.status, 401, "a registration token works once");
    // The host JWT is not a user token.
    const asUser = await h.req("GET", "/v1/me", { jwt: r.json.token });
    assert.equal(asUser.status, 401);
    const token = await h.req("POST", `/v1/hosts/${c.json.host.id}/token`, { jwt: admin.token });
    assert.equal(token.status, 409, "registered hosts get no new token");
  });

  it("heartbeats with the host token, and refreshes credentials", async () => {
    const { hostId, creds } = await h.onlineHost(admin);
    const hb = await h.req("POST", `/v1/hosts/${hostId}/heartbeat`, undefined, undefined, {
      "x-host-token": creds.token,
    });
    assert.equal(hb.status, 204);
    const empty = await h.app.inject({
      method: "POST",
      url: `/v1/hosts/${hostId}/heartbeat`,
      headers: { "x-host-token": creds.token, "content-type": "application/json" },
    });
    assert.equal(empty.statusCode, 204, "an empty JSON body is fine");
    const other = await h.onlineHost(admin);
    const wrong = await h.req(
      "POST",
      `/v1/hosts/${other.hostId}/heartbeat`,
      undefined,
      {},
      { "x-host-token": creds.token },
    );
    assert.equal(wrong.status, 403);
    const none = await h.req("POST", `/v1/hosts/${hostId}/heartbeat`, undefined, {});
    assert.equal(none.status, 401);
    const userJwt = await h.req(
      "POST",
      `/v1/hosts/${hostId}/heartbeat`,
      undefined,
      {},
      { "x-host-token": admin.token },
    );
    assert.equal(userJwt.status, 401);
    const ref = await h.req("POST", "/v1/hosts/auth/refresh", undefined, { refresh_token: creds.refresh_token });
    assert.equal(ref.status, 200, ref.body);
    assert.notEqual(ref.json.refresh_token, creds.refresh_token);
    assert.equal(ref.json.agent_key, creds.agent_key);
    const reuse = await h.req("POST", "/v1/hosts/auth/refresh", undefined, { refresh_token: creds.refresh_token });
    assert.equal(reuse.status, 401, "the old refresh token is revoked");
  });

  it("regenerates tokens for pending hosts, manages tags, lists and gets", async () => {
    const c = await h.req("POST", "/v1/hosts", { jwt: admin.token }, {});
    const id = c.json.host.id;
    const t = await h.req("POST", `/v1/hosts/${id}/token`, { jwt: admin.token });
    assert.equal(t.status, 201);
    assert.notEqual(t.json.registration_token, c.json.registration_token);
    assert.equal((await h.req("POST", `/v1/hosts/${id}/tags`, { jwt: admin.token }, { tag: "gpu" })).status, 204);
    assert.equal((await h.req("POST", `/v1/hosts/${id}/tags`, { jwt: admin.token }, { tag: "gpu" })).status, 204);
    assert.equal((await h.req("POST", `/v1/hosts/${id}/tags`, { jwt: admin.token }, { tag: "eu" })).status, 204);
    assert.deepEqual((await h.req("GET", `/v1/hosts/${id}/tags`, { jwt: admin.token })).json, ["eu", "gpu"]);
    assert.equal((await h.req("DELETE", `/v1/hosts/${id}/tags/gpu`, { jwt: admin.token })).status, 204);
    assert.deepEqual((await h.req("GET", `/v1/hosts/${id}/tags`, { jwt: admin.token })).json, ["eu"]);
    const list = await h.req("GET", "/v1/hosts", { jwt: admin.token });
    assert.ok(list.json.some((x: { id: string }) => x.id === id));
    const g = await h.req("GET", `/v1/hosts/${id}`, { jwt: admin.token });
    assert.equal(g.json.type, "regular");
    assert.equal(g.json.agent_key, undefined, "the agent key is never shown");
  });

  it("keeps regular hosts admin-only and validates input", async () => {
    const r = await h.req("POST", "/v1/hosts", { jwt: member.token }, { type: "regular" });
    assert.equal(r.status, 403);
    const byoc = await h.req("POST", "/v1/hosts", { jwt: member.token }, { type: "byoc" });
    assert.equal(byoc.status, 403, "team not enabled for BYOC");
    for (const body of [{ type: "cloud" }, { type: 5 }]) {
      assert.equal((await h.req("POST", "/v1/hosts", { jwt: admin.token }, body)).status, 400);
    }
    for (const body of [
      {},
      { token: "x", cpu_cores: "8", memory_mb: 1, disk_gb: 1, address: "a:1" },
      { token: "x", cpu_cores: 1, memory_mb: 1, disk_gb: 1, address: "nope" },
    ]) {
      const x = await h.req("POST", "/v1/hosts/register", undefined, body);
      assert.equal(x.status, 400, JSON.stringify(body));
      assert.equal(x.json.error.code, "invalid_request");
    }
    const bad = await h.req("POST", "/v1/hosts/register", undefined, {
      token: "0".repeat(64),
      cpu_cores: 1,
      memory_mb: 1,
      disk_gb: 1,
      address: "a:1",
    });
    assert.equal(bad.status, 401);
    assert.equal((await h.req("GET", "/v1/hosts/host-unknown", { jwt: admin.token })).status, 404);
  });

  it("refuses to delete a host with capsules unless forced, and previews them", async () => {
    const key = await h.apiKey(admin);
    const { hostId, agent } = await h.onlineHost(admin, "10.9.9.9:50051");
    // Take the other hosts out of scheduling so the capsule lands here.
    await h.db.db.updateTable("hosts").set({ status: "offline" }).where("id", "!=", hostId).execute();
    const id = await h.capsule(key);
    const row = await h.db.db.selectFrom("capsules").select("host_id").where("id", "=", id).executeTakeFirstOrThrow();
    assert.equal(row.host_id, hostId);
    const p = await h.req("GET", `/v1/hosts/${hostId}/delete-preview`, { jwt: admin.token });
    assert.deepEqual(p.json.sandbox_ids, [id]);
    const d = await h.req("DELETE", `/v1/hosts/${hostId}`, { jwt: admin.token });
    assert.equal(d.status, 409);
    assert.equal(d.json.error.code, "has_active_sandboxes");
    assert.deepEqual(d.json.error.sandbox_ids, [id]);
    const f = await h.req("DELETE", `/v1/hosts/${hostId}?force=true`, { jwt: admin.token });
    assert.equal(f.status, 204);
    assert.ok(agent.calls.includes("destroyCapsule") && agent.calls.includes("terminate"));
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key })).json.status, "stopped");
    assert.equal((await h.req("GET", `/v1/hosts/${hostId}`, { jwt: admin.token })).status, 404);
  });
});
