import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { multipartUpload } from "./multipart.ts";

async function parse(path: string, source: Parameters<typeof multipartUpload>[1]) {
  const progress: number[] = [];
  const { contentType, body } = multipartUpload(path, source, (n) => progress.push(n));
  // Request/FormData is the standard parser: if it reads our body back, servers will too.
  const form = await new Request("http://x/", {
    method: "POST",
    body,
    headers: { "content-type": contentType },
    duplex: "half",
  } as RequestInit).formData();
  return { form, progress };
}

describe("multipartUpload", () => {
  it("sends the path field before the file part", async () => {
    const { contentType, body } = multipartUpload("/tmp/a.txt", "hello");
    const text = await new Response(body).text();
    assert.match(contentType, /^multipart\/form-data; boundary=/);
    assert.ok(text.indexOf('name="path"') < text.indexOf('name="file"'));
  });

  it("round-trips bytes from an async iterable and reports progress", async () => {
    async function* chunks() {
      yield new Uint8Array([1, 2, 3]);
      yield new Uint8Array(70_000).fill(7);
    }
    const { form, progress } = await parse("/data/bin", chunks());
    assert.equal(form.get("path"), "/data/bin");
    const file = form.get("file") as File;
    const bytes = new Uint8Array(await file.arrayBuffer());
    assert.equal(bytes.length, 70_003);
    assert.deepEqual([...bytes.slice(0, 4)], [1, 2, 3, 7]);
    assert.deepEqual(progress, [3, 70_003]);
  });

  it("accepts a web ReadableStream", async () => {
    const stream = new Blob(["abc", "def"]).stream();
    const { form } = await parse("x", stream);
    assert.equal(await (form.get("file") as File).text(), "abcdef");
  });
});
