import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness, type TestUser } from "../testing/harness.ts";

/**
 * Two teams. Team B tries every capsule, file, process, key, host and team route on team A's
 * resources, with its API key and its JWT: each must be refused as if the resource did not
 * exist (404), and A's resources must be untouched afterwards.
 */
describe("tenant isolation", () => {
  let h: Harness;
  let a: TestUser;
  let b: TestUser;
  let keyA: string;
  let keyB: string;
  let capsuleA: string;
  let keyIdA: string;
  let byocHostA: string;

  before(async () => {
    h = await Harness.start();
    a = await h.user("alice"); // first user: platform admin
    b = await h.user("bob");
    keyA = await h.apiKey(a);
    keyB = await h.apiKey(b);
    await h.onlineHost(a);
    capsuleA = await h.capsule(keyA);
    await h.req("POST", `/v1/capsules/${capsuleA}/exec`, { key: keyA }, { cmd: "srv", background: true, tag: "t1" });
    keyIdA = (await h.req("GET", "/v1/api-keys", { jwt: a.token })).json[0].id;
    await h.req("PUT", `/v1/admin/teams/${a.team_id}/byoc`, { jwt: a.token }, { enabled: true });
    const byoc = await h.req("POST", "/v1/hosts", { jwt: a.token }, { type: "byoc" });
    assert.equal(byoc.status, 201, byoc.body);
    byocHostA = byoc.json.host.id;
  });
  after(() => h.close());

  it("refuses every capsule, file and process route across teams with 404", async () => {
    const c = `/v1/capsules/${capsuleA}`;
    const routes: Array<[string, string, unknown?]> = [
      ["GET", c],
      ["DELETE", c],
      ["POST", `${c}/ping`],
      ["POST", `${c}/pause`],
      ["POST", `${c}/resume`],
      ["POST", `${c}/exec`, { cmd: "echo" }],
      ["POST", `${c}/exec`, { cmd: "echo", background: true }],
      ["GET", `${c}/processes`],
      ["DELETE", `${c}/processes/t1`],
      ["POST", `${c}/files/read`, { path: "/etc/hostname" }],
      ["POST", `${c}/files/stream/read`, { path: "/etc/hostname" }],
      ["POST", `${c}/files/list`, { path: "/" }],
      ["POST", `${c}/files/mkdir`, { path: "/x" }],
      ["POST", `${c}/files/remove`, { path: "/x" }],
    ];
    for (const cred of [{ key: keyB }, { jwt: b.token }]) {
      for (const [m, u, body] of routes) {
        const r = await h.req(m as "GET", u, cred, body);
        assert.equal(r.status, 404, `${m} ${u} with ${Object.keys(cred)[0]}: ${r.body}`);
        assert.equal(r.json.error.code, "not_found");
      }
      for (const url of [`${c}/files/write`, `${c}/files/stream/write`]) {
        const boundary = "xyz";
        const payload = `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n/x\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nhi\r\n--${boundary}--\r\n`;
        const headers: Record<string, string> = { "content-type": `multipart/form-data; boundary=${boundary}` };
        if ("key" in cred && cred.key) headers["x-api-key"] = cred.key;
        else if ("jwt" in cred) headers.authorization = `Bearer ${cred.jwt}`;
        const r = await h.app.inject({ method: "POST", url, headers, payload });
        assert.equal(r.statusCode, 404, `${url}: ${r.body}`);
      }
    }
    const list = await h.req("GET", "/v1/capsules", { key: keyB });
    assert.deepEqual(list.json, []);
  });

  it("refuses API keys, hosts and teams across teams", async () => {
    const cred = { jwt: b.token };
    const routes: Array<[string, string, unknown?]> = [
      ["DELETE", `/v1/api-keys/${keyIdA}`],
      ["GET", `/v1/hosts/${byocHostA}`],
      ["DELETE", `/v1/hosts/${byocHostA}`],
      ["GET", `/v1/hosts/${byocHostA}/delete-preview`],
      ["POST", `/v1/hosts/${byocHostA}/token`],
      ["GET", `/v1/hosts/${byocHostA}/tags`],
      ["POST", `/v1/hosts/${byocHostA}/tags`, { tag: "x" }],
      ["DELETE", `/v1/hosts/${byocHostA}/tags/x`],
      ["GET", `/v1/teams/${a.team_id}`],
      ["PATCH", `/v1/teams/${a.team_id}`, { name: "pwned" }],
      ["DELETE", `/v1/teams/${a.team_id}`],
      ["GET", `/v1/teams/${a.team_id}/members`],
      ["POST", `/v1/teams/${a.team_id}/members`, { email: "x@example.com" }],
      ["PATCH", `/v1/teams/${a.team_id}/members/${a.user_id}`, { role: "member" }],
      ["DELETE", `/v1/teams/${a.team_id}/members/${a.user_id}`],
      ["POST", `/v1/teams/${a.team_id}/leave`],
      ["POST", "/v1/auth/switch-team", { team_id: a.team_id }],
    ];
    for (const [m, u, body] of routes) {
      const r = await h.req(m as "GET", u, cred, body);
      assert.equal(r.status, 404, `${m} ${u}: ${r.body}`);
    }
    const keys = await h.req("GET", "/v1/api-keys", cred);
    assert.ok(keys.json.every((k: { team_id: string }) => k.team_id === b.team_id));
    const hosts = await h.req("GET", "/v1/hosts", cred);
    assert.deepEqual(hosts.json, []);
    // A's things are intact.
    assert.equal((await h.req("GET", `/v1/capsules/${capsuleA}`, { key: keyA })).json.status, "running");
    assert.equal((await h.req("GET", "/v1/api-keys", { jwt: a.token })).json.length, 1);
    assert.equal((await h.req("GET", `/v1/teams/${a.team_id}`, { jwt: a.token })).status, 200);
  });

  it("refuses API keys on user-only routes and non-admins on admin routes", async () => {
    for (const u of ["/v1/api-keys", "/v1/teams", "/v1/hosts", "/v1/me"]) {
      const r = await h.req("GET", u, { key: keyA });
      assert.equal(r.status, 401, u);
    }
    const r = await h.req("GET", "/v1/admin/users", { jwt: b.token });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, "forbidden");
  });

  it("refuses channel routes across teams and keeps audit logs apart", async () => {
    const ch = await h.req(
      "POST",
      "/v1/channels",
      { jwt: a.token },
      { name: "a-alerts", provider: "webhook", config: { url: "http://127.0.0.1:9/x" }, events: ["capsule.created"] },
    );
    assert.equal(ch.status, 201, ch.body);
    const c = `/v1/channels/${ch.json.id}`;
    const routes: Array<[string, string, unknown?]> = [
      ["GET", c],
      ["PATCH", c, { name: "pwned" }],
      ["PUT", `${c}/config`, { config: { url: "http://127.0.0.1:9/y" } }],
      ["DELETE", c],
    ];
    for (const [m, u, body] of routes) {
      const r = await h.req(m as "GET", u, { jwt: b.token }, body);
      assert.equal(r.status, 404, `${m} ${u}: ${r.body}`);
    }
    assert.deepEqual((await h.req("GET", "/v1/channels", { jwt: b.token })).json, []);
    assert.equal((await h.req("GET", c, { jwt: a.token })).json.name, "a-alerts");
    const logs = await h.req("GET", "/v1/audit-logs?limit=1000", { jwt: b.token });
    assert.equal(logs.status, 200);
    const foreign = [capsuleA, keyIdA, ch.json.id];
    assert.ok(logs.json.items.every((i: { resource_id: string }) => !foreign.includes(i.resource_id)));
    assert.equal((await h.req("GET", "/v1/admin/audit-logs", { jwt: b.token })).status, 403);
  });
});
