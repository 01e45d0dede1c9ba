import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { EnvdHarness } from "../testing/envd-harness.ts";

const GIB = 1024 * 1024 * 1024;
const BLOCK = 1024 * 1024;

/** Writes `total` bytes of generated data to `out` under backpressure; returns their SHA-256. */
async function writeGenerated(out: http.ClientRequest, total: number): Promise<string> {
  const hash = createHash("sha256");
  const block = randomBytes(BLOCK);
  for (let i = 0; i * BLOCK < total; i++) {
    block.writeUInt32BE(i, 0); // every block differs, so a dropped or repeated block changes the digest
    const chunk = block.subarray(0, Math.min(BLOCK, total - i * BLOCK));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
  }
  return hash.digest("hex");
}

describe("envd /files with 1 GiB", () => {
  let h: EnvdHarness;
  before(async () => {
    h = await EnvdHarness.start();
  });
  after(() => h.close());

  it("uploads 1 GiB as multipart and downloads it back with the same SHA-256, without buffering it", async (t) => {
    const boundary = "----envd-large-test";
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
        "Content-Type: application/octet-stream\r\n\r\n",
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    // Buffer garbage is freed lazily, so measure live buffer memory right after a forced collection.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 200);
    try {
      const t0 = Date.now();
      const uploaded = await new Promise<{ status: number; body: string; sha: string }>((resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1",
          port: h.port,
          method: "POST",
          path: "/files?path=big/big.bin",
          headers: {
            "content-type": `multipart/form-data; boundary=${boundary}`,
            "content-length": head.length + GIB + tail.length,
          },
        });
        let sha = "";
        req.on("response", (res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, sha }));
        });
        req.on("error", reject);
        req.write(head);
        writeGenerated(req, GIB)
          .then((digest) => {
            sha = digest;
            req.end(tail);
          })
          .catch(reject);
      });
      const uploadS = (Date.now() - t0) / 1000;
      assert.equal(uploaded.status, 200, uploaded.body);
      assert.equal((await stat(join(h.root, "big/big.bin"))).size, GIB);

      const t1 = Date.now();
      const downloaded = await new Promise<{ sha: string; bytes: number; length: string | undefined }>(
        (resolve, reject) => {
          http
            .get({ host: "127.0.0.1", port: h.port, path: "/files?path=big/big.bin" }, (res) => {
              const hash = createHash("sha256");
              let bytes = 0;
              res.on("data", (c: Buffer) => {
                hash.update(c);
                bytes += c.length;
              });
              res.on("end", () => resolve({ sha: hash.digest("hex"), bytes, length: res.headers["content-length"] }));
              res.on("error", reject);
            })
            .on("error", reject);
        },
      );
      const downloadS = (Date.now() - t1) / 1000;
      assert.equal(downloaded.length, String(GIB));
      assert.equal(downloaded.bytes, GIB);
      assert.equal(downloaded.sha, uploaded.sha);
      const growthMb = (peak - before) / 1048576;
      t.diagnostic(
        `upload ${(1024 / uploadS).toFixed(0)} MiB/s, download ${(1024 / downloadS).toFixed(0)} MiB/s, ` +
          `peak live buffers +${growthMb.toFixed(0)} MiB`,
      );
      // Client and envd share this process; holding the file would add 1024 MiB.
      assert.ok(growthMb < 128, `live buffer memory grew by ${growthMb.toFixed(0)} MiB`);
    } finally {
      clearInterval(sampler);
    }
  });
});
