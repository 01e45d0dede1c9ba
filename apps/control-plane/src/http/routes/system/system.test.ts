import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness } from "../../../testing/harness.ts";

describe("system routes", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(async () => {
    await h?.close();
  });

  it("serves /health with the version", async () => {
    const r = await h.req("GET", "/health");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(JSON.parse(r.body)).sort(), ["status", "version"]);
  });

  it("serves the placeholder dashboard at / that lists capsules with an API key", async () => {
    const r = await h.req("GET", "/");
    assert.equal(r.status, 200);
    assert.match(r.headers["content-type"] as string, /^text\/html/);
    assert.match(r.body, /<title>Wrenn<\/title>/);
    assert.match(r.body, /fetch\("\/v1\/capsules", \{ headers: \{ "X-API-Key"/);
  });

  it("serves the docs page listing capsule operations", async () => {
    const r = await h.req("GET", "/docs");
    assert.equal(r.status, 200);
    assert.match(r.body, /\/v1\/capsules/);
  });
});
