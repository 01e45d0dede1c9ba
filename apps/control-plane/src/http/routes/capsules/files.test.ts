import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness } from "../../../testing/harness.ts";

/** Builds a multipart body by hand so the test controls part order and size. */
function multipart(parts: Array<{ name: string; value: Buffer | string; filename?: string }>) {
  const boundary = `----wrenn${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ""}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.filename ? "Content-Type: application/octet-stream\r\n" : ""}\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe("capsule file routes", () => {
  let h: Harness;
  let key: string;
  let id: string;
  let agent: ReturnType<Harness["fleet"]["at"]>;

  before(async () => {
    h = await Harness.start();
    const admin = await h.user("admin");
    key = await h.apiKey(admin);
    agent = (await h.onlineHost(admin)).agent;
    id = await h.capsule(key);
  });
  after(() => h.close());

  const upload = (url: string, body: ReturnType<typeof multipart>) =>
    h.app.inject({
      method: "POST",
      url,
      headers: { "x-api-key": key, "content-type": body.contentType },
      payload: body.payload,
    });

  it("writes and reads a file (buffered)", async () => {
    const data = Buffer.from([0, 1, 2, 250, 251, 252]);
    const w = await upload(
      `/v1/capsules/${id}/files/write`,
      multipart([
        { name: "path", value: "/tmp/a.bin" },
        { name: "file", value: data, filename: "a.bin" },
      ]),
    );
    assert.equal(w.statusCode, 204, w.body);
    assert.deepEqual(Buffer.from(agent.files.get("/tmp/a.bin")!), data);
    const r = await h.req("POST", `/v1/capsules/${id}/files/read`, { key }, { path: "/tmp/a.bin" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "application/octet-stream");
    assert.deepEqual(r.rawPayload, data);
  });

  it("refuses a buffered upload over 100 MB with 413 too_large", async () => {
    const big = Buffer.alloc(100 * 1024 * 1024 + 1, 7);
    const w = await upload(
      `/v1/capsules/${id}/files/write`,
      multipart([
        { name: "path", value: "/tmp/big" },
        { name: "file", value: big, filename: "big" },
      ]),
    );
    assert.equal(w.statusCode, 413, w.body);
    assert.equal(w.json().error.code, "too_large");
    assert.ok(!agent.files.has("/tmp/big"));
  });

  it("rejects uploads without path or file, and non-multipart bodies", async () => {
    const noPath = await upload(
      `/v1/capsules/${id}/files/write`,
      multipart([{ name: "file", value: "x", filename: "x" }]),
    );
    assert.equal(noPath.statusCode, 400);
    const noFile = await upload(`/v1/capsules/${id}/files/write`, multipart([{ name: "path", value: "/x" }]));
    assert.equal(noFile.statusCode, 400);
    const json = await h.req("POST", `/v1/capsules/${id}/files/write`, { key }, { path: "/x" });
    assert.equal(json.status, 400);
    assert.equal(json.json.error.code, "invalid_request");
  });

  it("streams an upload in 64 KiB chunks and streams it back", async () => {
    const data = Buffer.alloc(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const w = await upload(
      `/v1/capsules/${id}/files/stream/write`,
      multipart([
        { name: "path", value: "/data/s.bin" },
        { name: "file", value: data, filename: "s" },
      ]),
    );
    assert.equal(w.statusCode, 204, w.body);
    assert.deepEqual(Buffer.from(agent.files.get("/data/s.bin")!), data);
    const r = await h.req("POST", `/v1/capsules/${id}/files/stream/read`, { key }, { path: "/data/s.bin" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.rawPayload, data);
  });

  it("requires path before file on the streaming upload", async () => {
    const w = await upload(
      `/v1/capsules/${id}/files/stream/write`,
      multipart([
        { name: "file", value: "abc", filename: "a" },
        { name: "path", value: "/p" },
      ]),
    );
    assert.equal(w.statusCode, 400);
    assert.equal(w.json().error.code, "invalid_request");
  });

  it("maps missing files to 404 on both reads", async () => {
    for (const url of [`/v1/capsules/${id}/files/read`, `/v1/capsules/${id}/files/stream/read`]) {
      const r = await h.req("POST", url, { key }, { path: "/nope" });
      assert.equal(r.status, 404, url);
      assert.equal(r.json.error.code, "not_found");
    }
  });

  it("lists, makes directories and removes", async () => {
    const l = await h.req("POST", `/v1/capsules/${id}/files/list`, { key }, { path: "/tmp" });
    assert.equal(l.status, 200);
    const entry = l.json.entries.find((e: { path: string }) => e.path === "/tmp/a.bin");
    assert.equal(entry.size, 6);
    assert.equal(entry.permissions, "-rw-r--r--");
    assert.equal(entry.modified_at, 1700000000);
    const m = await h.req("POST", `/v1/capsules/${id}/files/mkdir`, { key }, { path: "/tmp/d" });
    assert.equal(m.status, 200);
    assert.equal(m.json.entry.type, "directory");
    assert.equal((await h.req("POST", `/v1/capsules/${id}/files/remove`, { key }, { path: "/tmp/a.bin" })).status, 204);
    assert.equal((await h.req("POST", `/v1/capsules/${id}/files/remove`, { key }, { path: "/tmp/a.bin" })).status, 404);
    for (const body of [{}, { path: "" }, { path: 3 }, { path: "/x", depth: -1 }]) {
      const r = await h.req("POST", `/v1/capsules/${id}/files/list`, { key }, body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
  });
});
