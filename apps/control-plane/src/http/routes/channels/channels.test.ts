import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { webhookSignature } from "../../../channels/providers/index.ts";
import { TestReceiver } from "../../../channels/test-receiver.ts";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("channel routes (/v1/channels)", () => {
  let h: Harness;
  let u: TestUser;
  let other: TestUser;
  let rx: TestReceiver;

  before(async () => {
    h = await Harness.start();
    u = await h.user("owner");
    other = await h.user("other");
    rx = await TestReceiver.start();
  });
  after(async () => {
    await rx.close();
    await h.close();
  });

  const create = (body: unknown, who = u) => h.req("POST", "/v1/channels", { jwt: who.token }, body);
  const auditActions = async (id: string) =>
    (
      await h.db.db
        .selectFrom("audit_logs")
        .select("action")
        .where("resource_type", "=", "channel")
        .where("resource_id", "=", id)
        .orderBy("created_at")
        .execute()
    ).map((r) => r.action);

  it("creates a slack channel, normalises its name, stores the config encrypted and never returns it", async () => {
    const url = rx.url("/slack/hook");
    const r = await create({
      name: "Ops Alerts",
      provider: "slack",
      config: { webhook_url: url },
      events: ["capsule.paused", "capsule.paused", "host.down"],
    });
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.id, /^ch-[0-9a-z]{25}$/);
    assert.equal(r.json.name, "ops-alerts");
    assert.equal(r.json.team_id, u.team_id);
    assert.deepEqual(r.json.events, ["capsule.paused", "host.down"]);
    assert.equal(r.json.config, undefined);
    assert.equal(r.json.secret, undefined);
    const row = await h.db.db.selectFrom("channels").selectAll().where("id", "=", r.json.id).executeTakeFirstOrThrow();
    assert.notEqual(row.config.webhook_url, url);
    assert.ok(!JSON.stringify(row.config).includes("slack/hook"), "the stored config is ciphertext");
    const list = await h.req("GET", "/v1/channels", { jwt: u.token });
    assert.deepEqual(
      list.json.map((c: { id: string }) => c.id),
      [r.json.id],
    );
    assert.ok(!list.body.includes("webhook_url"));
    assert.deepEqual(await auditActions(r.json.id), ["create"]);
  });

  it("generates a webhook secret once when omitted and keeps a given one", async () => {
    const r = await create({ name: "hook", provider: "webhook", config: { url: rx.url("/w") }, events: ["host.up"] });
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.secret, /^[0-9a-f]{64}$/);
    const got = await h.req("GET", `/v1/channels/${r.json.id}`, { jwt: u.token });
    assert.equal(got.status, 200);
    assert.equal(got.json.secret, undefined);
    const given = await create({
      name: "hook2",
      provider: "webhook",
      config: { url: rx.url("/w"), secret: "s3cret" },
      events: ["host.up"],
    });
    assert.equal(given.json.secret, "s3cret");
  });

  it("rejects bad input with invalid_request and a message naming the problem", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: "x", provider: "pigeon", config: {}, events: ["host.up"] }, /unsupported provider "pigeon"/],
      [{ name: "x", provider: "slack", config: {}, events: ["host.up"] }, /config.webhook_url is required for slack/],
      [{ name: "x", provider: "slack", config: { webhook_url: "ftp://x" }, events: ["host.up"] }, /http\(s\) URL/],
      [
        { name: "x", provider: "slack", config: { webhook_url: rx.url(), extra: "1" }, events: ["host.up"] },
        /unknown config key "extra"/,
      ],
      [{ name: "x", provider: "slack", config: { webhook_url: rx.url() }, events: [] }, /at least one event/],
      [
        { name: "x", provider: "slack", config: { webhook_url: rx.url() }, events: ["capsule.exploded"] },
        /unknown event type/,
      ],
      [{ name: "-bad", provider: "slack", config: { webhook_url: rx.url() }, events: ["host.up"] }, /name must be/],
      [
        {
          name: "x",
          provider: "googlechat",
          config: { webhook_url: "https://evil.example.com/v1/spaces" },
          events: ["host.up"],
        },
        /chat\.googleapis\.com/,
      ],
      [
        { name: "x", provider: "telegram", config: { bot_token: "nope", chat_id: "1" }, events: ["host.up"] },
        /bot_token/,
      ],
      [
        { name: "x", provider: "matrix", config: { homeserver_url: rx.url(), access_token: "t" }, events: ["host.up"] },
        /room_id is required/,
      ],
      [{ name: "x", provider: "slack", events: ["host.up"] }, /config/],
    ];
    for (const [body, message] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.json.error.code, "invalid_request");
      assert.match(r.json.error.message, message);
    }
    const ok = await create({
      name: "gchat",
      provider: "googlechat",
      config: { webhook_url: "https://chat.googleapis.com/v1/spaces/AAA/messages?key=k" },
      events: ["host.up"],
    });
    assert.equal(ok.status, 201, ok.body);
  });

  it("refuses a duplicate name in the team with 409 but allows it in another team", async () => {
    const body = { name: "dupe", provider: "discord", config: { webhook_url: rx.url() }, events: ["host.up"] };
    assert.equal((await create(body)).status, 201);
    const again = await create({ ...body, name: "DUPE" });
    assert.equal(again.status, 409, again.body);
    assert.equal(again.json.error.code, "conflict");
    assert.equal((await create(body, other)).status, 201);
  });

  it("updates name and events, rotates the config and deletes, writing the audit rows", async () => {
    const c = await create({ name: "life", provider: "webhook", config: { url: rx.url() }, events: ["host.up"] });
    const id = c.json.id;
    const p = await h.req(
      "PATCH",
      `/v1/channels/${id}`,
      { jwt: u.token },
      { name: "Life 2", events: ["capsule.created"] },
    );
    assert.equal(p.status, 200, p.body);
    assert.deepEqual([p.json.name, p.json.events], ["life-2", ["capsule.created"]]);
    const clash = await h.req("PATCH", `/v1/channels/${id}`, { jwt: u.token }, { name: "hook" });
    assert.equal(clash.status, 409);
    const empty = await h.req("PATCH", `/v1/channels/${id}`, { jwt: u.token }, {});
    assert.equal(empty.status, 400);
    const rot = await h.req("PUT", `/v1/channels/${id}/config`, { jwt: u.token }, { config: { url: rx.url("/new") } });
    assert.equal(rot.status, 200, rot.body);
    assert.match(rot.json.secret, /^[0-9a-f]{64}$/);
    assert.notEqual(rot.json.secret, c.json.secret);
    const badRot = await h.req("PUT", `/v1/channels/${id}/config`, { jwt: u.token }, { config: { webhook_url: "x" } });
    assert.equal(badRot.status, 400);
    const d = await h.req("DELETE", `/v1/channels/${id}`, { jwt: u.token });
    assert.equal(d.status, 204);
    assert.equal((await h.req("GET", `/v1/channels/${id}`, { jwt: u.token })).status, 404);
    assert.deepEqual(await auditActions(id), ["create", "update", "rotate_config", "delete"]);
  });

  it("hides a team's channels from another team (404) and refuses API keys", async () => {
    const c = await create({
      name: "private",
      provider: "slack",
      config: { webhook_url: rx.url() },
      events: ["host.up"],
    });
    const id = c.json.id;
    for (const [m, url, body] of [
      ["GET", `/v1/channels/${id}`],
      ["PATCH", `/v1/channels/${id}`, { name: "pwned" }],
      ["PUT", `/v1/channels/${id}/config`, { config: { webhook_url: rx.url() } }],
      ["DELETE", `/v1/channels/${id}`],
    ] as Array<[string, string, unknown?]>) {
      const r = await h.req(m as "GET", url, { jwt: other.token }, body);
      assert.equal(r.status, 404, `${m} ${url}: ${r.body}`);
    }
    assert.equal((await h.req("GET", `/v1/channels/${id}`, { jwt: u.token })).json.name, "private");
    const key = await h.apiKey(u);
    assert.equal((await h.req("GET", "/v1/channels", { key })).status, 401);
  });

  it("test-sends a signed webhook without saving and reports a refusal as 502 delivery_failed", async () => {
    const before = (await h.req("GET", "/v1/channels", { jwt: u.token })).json.length;
    rx.requests.length = 0;
    const ok = await h.req(
      "POST",
      "/v1/channels/test",
      { jwt: u.token },
      { provider: "webhook", config: { url: rx.url("/test"), secret: "k" } },
    );
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(ok.json, { status: "ok" });
    const [got] = await rx.waitFor(1);
    assert.ok(got);
    const ts = String(got.headers["x-wrenn-timestamp"]);
    assert.equal(got.headers["x-wrenn-signature"], webhookSignature("k", ts, got.body));
    assert.equal(JSON.parse(got.body).event, "channel.test");
    assert.equal((await h.req("GET", "/v1/channels", { jwt: u.token })).json.length, before);

    rx.respond = () => ({ status: 403 });
    const refused = await h.req(
      "POST",
      "/v1/channels/test",
      { jwt: u.token },
      { provider: "slack", config: { webhook_url: rx.url("/s") } },
    );
    rx.respond = () => ({ status: 200 });
    assert.equal(refused.status, 502, refused.body);
    assert.equal(refused.json.error.code, "delivery_failed");
    assert.match(refused.json.error.message, /slack answered HTTP 403/);
    const invalid = await h.req("POST", "/v1/channels/test", { jwt: u.token }, { provider: "slack", config: {} });
    assert.equal(invalid.status, 400);
  });

  it("documents the routes in /openapi.yaml", async () => {
    const r = await h.req("GET", "/openapi.yaml");
    for (const p of ["/v1/channels:", "/v1/channels/test:", "/v1/channels/{id}:", "/v1/channels/{id}/config:"]) {
      assert.ok(r.body.includes(p), p);
    }
  });
});
