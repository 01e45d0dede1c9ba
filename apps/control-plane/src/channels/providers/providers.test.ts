import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import type { ChannelEvent } from "../events.ts";
import { TestReceiver } from "../test-receiver.ts";
import { DeliveryError, PROVIDERS } from "./index.ts";

const event: ChannelEvent = {
  event: "capsule.paused",
  timestamp: "2026-01-02T03:04:05Z",
  team_id: "team-abc",
  actor: { type: "user", id: "usr-1", name: "Ann" },
  resource: { id: "cl-1", type: "sandbox" },
};

describe("channel providers", () => {
  let rx: TestReceiver;
  const ctx = () => ({ telegramApiUrl: rx.url("/tg"), timeoutMs: 500 });
  before(async () => {
    rx = await TestReceiver.start();
  });
  beforeEach(() => {
    rx.requests.length = 0;
    rx.respond = () => ({ status: 200 });
  });
  after(() => rx.close());

  it("signs webhooks so a receiver holding the secret can verify them", async () => {
    await PROVIDERS.webhook.deliver({ url: rx.url("/w"), secret: "shh" }, event, ctx());
    const [r] = rx.requests;
    assert.ok(r);
    assert.deepEqual(JSON.parse(r.body), event);
    const ts = String(r.headers["x-wrenn-timestamp"]);
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expected = createHmac("sha256", "shh").update(`${ts}.${r.body}`).digest("hex");
    assert.equal(r.headers["x-wrenn-signature"], `sha256=${expected}`);
    const forged = createHmac("sha256", "other").update(`${ts}.${r.body}`).digest("hex");
    assert.notEqual(r.headers["x-wrenn-signature"], `sha256=${forged}`);
  });

  it("sends each chat service its documented body", async () => {
    await PROVIDERS.slack.deliver({ webhook_url: rx.url("/s") }, event, ctx());
    await PROVIDERS.discord.deliver({ webhook_url: rx.url("/d") }, event, ctx());
    await PROVIDERS.teams.deliver({ webhook_url: rx.url("/t") }, event, ctx());
    const bodies = rx.requests.map((r) => JSON.parse(r.body));
    const text = [
      "Capsule cl-1 paused",
      "",
      "Event: capsule.paused",
      "Resource: sandbox cl-1",
      "Actor: Ann (usr-1)",
      "Team: team-abc",
      "Time: 2026-01-02T03:04:05Z",
    ].join("\n");
    assert.deepEqual(bodies, [{ text }, { content: text }, { text }]);
  });

  it("treats non-2xx, redirects and silence as failures without leaking a token", async () => {
    rx.respond = () => ({ status: 404 });
    await assert.rejects(
      PROVIDERS.telegram.deliver({ bot_token: "99:SECRET", chat_id: "1" }, event, ctx()),
      (e: Error) =>
        e instanceof DeliveryError && /telegram answered HTTP 404/.test(e.message) && !/SECRET/.test(e.message),
    );
    rx.respond = () => ({ status: 302, headers: { location: rx.url("/elsewhere") } });
    await assert.rejects(PROVIDERS.slack.deliver({ webhook_url: rx.url("/r") }, event, ctx()), /HTTP 302/);
    assert.ok(!rx.requests.some((r) => r.path === "/elsewhere"), "the redirect is not followed");
    rx.respond = () => ({ status: 200, delayMs: 2_000 });
    await assert.rejects(PROVIDERS.slack.deliver({ webhook_url: rx.url("/slow") }, event, ctx()), /within 0.5 s/);
    await assert.rejects(
      PROVIDERS.slack.deliver({ webhook_url: "http://127.0.0.1:1/x" }, event, ctx()),
      /could not be reached/,
    );
  });
});
