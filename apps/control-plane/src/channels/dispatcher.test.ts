import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import pino from "pino";
import { Harness, type TestUser } from "../testing/harness.ts";
import { createChannelDispatcher } from "./dispatcher.ts";
import { webhookSignature } from "./providers/index.ts";
import { TestReceiver } from "./test-receiver.ts";

describe("channel dispatcher", () => {
  let h: Harness;
  let u: TestUser;
  let key: string;
  let rx: TestReceiver;
  let dispatcher: ReturnType<typeof createChannelDispatcher>;

  before(async () => {
    h = await Harness.start();
    u = await h.user("owner");
    key = await h.apiKey(u);
    await h.onlineHost(u);
    rx = await TestReceiver.start();
    dispatcher = createChannelDispatcher({
      db: h.db.db,
      log: pino({ level: "silent" }),
      channels: h.services.channels,
      delivery: { telegramApiUrl: rx.url("/telegram"), timeoutMs: 2_000 },
      retryDelaysMs: [50, 100],
      settleMs: 0,
    });
    // The first run puts the cursor at "now": everything audited so far (signup, key, host) is history.
    await dispatcher.run();
  });
  beforeEach(() => {
    rx.requests.length = 0;
    rx.respond = () => ({ status: 200 });
  });
  after(async () => {
    dispatcher.stop();
    await rx.close();
    await h.close();
  });

  const channel = async (body: Record<string, unknown>) => {
    const r = await h.req("POST", "/v1/channels", { jwt: u.token }, body);
    assert.equal(r.status, 201, r.body);
    return r.json as { id: string; secret?: string };
  };
  const remove = (id: string) => h.req("DELETE", `/v1/channels/${id}`, { jwt: u.token });

  it("delivers a capsule create and pause to a subscribed webhook with the reference payload, signed", async () => {
    const ch = await channel({
      name: "hook",
      provider: "webhook",
      config: { url: rx.url("/hook") },
      events: ["capsule.created", "capsule.paused"],
    });
    const id = await h.capsule(key);
    const p = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    assert.equal(p.status, 200, p.body);
    await dispatcher.run();
    await dispatcher.idle();
    assert.deepEqual(
      rx.requests.map((r) => [r.method, r.path, JSON.parse(r.body).event]),
      [
        ["POST", "/hook", "capsule.created"],
        ["POST", "/hook", "capsule.paused"],
      ],
    );
    const [created] = rx.requests;
    assert.ok(created);
    const payload = JSON.parse(created.body);
    assert.deepEqual(Object.keys(payload), ["event", "timestamp", "team_id", "actor", "resource"]);
    assert.equal(payload.team_id, u.team_id);
    assert.equal(payload.actor.type, "api_key");
    assert.deepEqual(payload.resource, { id, type: "sandbox" });
    assert.match(payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const ts = String(created.headers["x-wrenn-timestamp"]);
    assert.equal(created.headers["x-wrenn-signature"], webhookSignature(ch.secret ?? "", ts, created.body));
    assert.match(String(created.headers["x-wrenn-delivery"]), /^[0-9a-f-]{36}$/);
    assert.equal(created.headers["content-type"], "application/json");

    // Already dispatched rows are not sent again.
    await dispatcher.run();
    await dispatcher.idle();
    assert.equal(rx.requests.length, 2);
    await remove(ch.id);
  });

  it("sends only subscribed events, only to the event's team, as text to chat providers", async () => {
    const slack = await channel({
      name: "slack",
      provider: "slack",
      config: { webhook_url: rx.url("/slack") },
      events: ["capsule.destroyed"],
    });
    const tg = await channel({
      name: "tg",
      provider: "telegram",
      config: { bot_token: "123:abc", chat_id: "-100" },
      events: ["capsule.destroyed"],
    });
    const other = await h.user("other");
    const otherHook = await h.req(
      "POST",
      "/v1/channels",
      { jwt: other.token },
      { name: "x", provider: "discord", config: { webhook_url: rx.url("/other") }, events: ["capsule.destroyed"] },
    );
    assert.equal(otherHook.status, 201);
    const id = await h.capsule(key);
    await h.req("DELETE", `/v1/capsules/${id}`, { key });
    await dispatcher.run();
    await dispatcher.idle();
    const byPath = Object.fromEntries(rx.requests.map((r) => [r.path, JSON.parse(r.body)]));
    assert.deepEqual(Object.keys(byPath).sort(), ["/slack", "/telegram/bot123:abc/sendMessage"]);
    const text: string = byPath["/slack"].text;
    assert.equal(text.split("\n")[0], `Capsule ${id} destroyed`);
    assert.match(
      text,
      new RegExp(`\\nEvent: capsule.destroyed\\nResource: sandbox ${id}\\nActor: .+\\nTeam: ${u.team_id}\\nTime: `),
    );
    assert.equal(byPath["/telegram/bot123:abc/sendMessage"].chat_id, "-100");
    assert.equal(byPath["/telegram/bot123:abc/sendMessage"].text, text);
    await remove(slack.id);
    await remove(tg.id);
  });

  it("retries a failing delivery twice, then gives up", async () => {
    const ch = await channel({
      name: "flaky",
      provider: "discord",
      config: { webhook_url: rx.url("/flaky") },
      events: ["capsule.created"],
    });
    rx.respond = () => ({ status: 500 });
    await h.capsule(key);
    await dispatcher.run();
    await dispatcher.idle();
    assert.equal(rx.requests.length, 3, "first attempt plus two retries");
    assert.ok(rx.requests.every((r) => r.path === "/flaky" && JSON.parse(r.body).content.startsWith("Capsule ")));
    await remove(ch.id);
  });

  it("stops retrying once a retry succeeds", async () => {
    const ch = await channel({
      name: "recovers",
      provider: "teams",
      config: { webhook_url: rx.url("/teams") },
      events: ["capsule.created"],
    });
    rx.respond = () => ({ status: rx.requests.length === 1 ? 503 : 200 });
    await h.capsule(key);
    await dispatcher.run();
    await dispatcher.idle();
    assert.equal(rx.requests.length, 2);
    await remove(ch.id);
  });

  it("delivers matrix messages with the access token, one fresh transaction id each", async () => {
    const ch = await channel({
      name: "mx",
      provider: "matrix",
      config: { homeserver_url: rx.url("/mx/"), access_token: "syt_tok", room_id: "!room:example.org" },
      events: ["capsule.created"],
    });
    await h.capsule(key);
    await dispatcher.run();
    await dispatcher.idle();
    const [m] = rx.requests;
    assert.ok(m);
    assert.equal(m.method, "PUT");
    assert.match(
      m.path,
      /^\/mx\/_matrix\/client\/v3\/rooms\/!room%3Aexample\.org\/send\/m\.room\.message\/[0-9a-f-]{36}$/,
    );
    assert.equal(m.headers.authorization, "Bearer syt_tok");
    assert.equal(JSON.parse(m.body).msgtype, "m.text");
    await remove(ch.id);
  });
});
