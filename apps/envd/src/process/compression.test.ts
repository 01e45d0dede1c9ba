import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EnvdHarness } from "../testing/envd-harness.ts";
import { rawStart } from "../testing/raw-connect.ts";

/** Splits a Connect streaming body into its envelopes' flag bytes and payload sizes. */
function envelopes(body: Buffer): { flags: number; size: number }[] {
  const out: { flags: number; size: number }[] = [];
  for (let off = 0; off < body.length; ) {
    const size = body.readUInt32BE(off + 1);
    out.push({ flags: body[off] as number, size });
    off += 5 + size;
  }
  return out;
}

describe("process output compression", () => {
  let envd: EnvdHarness;
  before(async () => {
    envd = await EnvdHarness.start();
  });
  after(() => envd.close());

  it("sends output uncompressed even to a client that accepts gzip", async () => {
    // 256 KiB of zeros: the most compressible output there is, in messages far above Connect's 1 KiB default.
    const { res } = await rawStart(
      envd.port,
      { process: { cmd: "head", args: ["-c", "262144", "/dev/zero"] } },
      { "connect-accept-encoding": "gzip, br" },
    );
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    assert.equal(res.statusCode, 200);
    const envs = envelopes(Buffer.concat(chunks));
    assert.ok(envs.length >= 3, `start, data and end messages, got ${envs.length}`);
    assert.deepEqual(
      envs.filter((e) => (e.flags & 1) === 1),
      [],
      "no envelope carries the compressed flag",
    );
    const payload = envs.reduce((sum, e) => sum + e.size, 0);
    assert.ok(payload >= 262144, `the output travels as is (${payload} bytes of payload)`);
  });
});
