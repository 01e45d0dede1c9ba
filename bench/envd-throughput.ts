/**
 * Streaming throughput of stdout through envd: `cat` of a large file, bytes counted by a Connect client.
 *   node --import tsx bench/envd-throughput.ts [MiB=1024]
 */

import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { process as pb } from "@wrenn/protocol";
import { startEnvd } from "./envd-harness.ts";

/** Streams a Start over raw HTTP/1.1 and sums envelope payload sizes: envd's own rate, no client decoding. */
function rawCat(port: number, file: string, json: boolean): Promise<number> {
  const request = create(pb.StartRequestSchema, { process: { cmd: "cat", args: [file] } });
  const body = json
    ? Buffer.from(toJsonString(pb.StartRequestSchema, request))
    : toBinary(pb.StartRequestSchema, request);
  const env = Buffer.alloc(5 + body.length);
  env.writeUInt32BE(body.length, 1);
  Buffer.from(body).copy(env, 5);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/process.Process/Start",
        headers: {
          "content-type": json ? "application/connect+json" : "application/connect+proto",
          "connect-protocol-version": "1",
        },
      },
      (res) => {
        let payload = 0;
        let need = 5; // bytes left in the current header or message
        let inHeader = true;
        let header = Buffer.alloc(0);
        res.on("data", (chunk: Buffer) => {
          let off = 0;
          while (off < chunk.length) {
            const take = Math.min(need, chunk.length - off);
            if (inHeader) {
              header = Buffer.concat([header, chunk.subarray(off, off + take)]);
              need -= take;
              if (need === 0) {
                need = header.readUInt32BE(1);
                payload += need;
                inHeader = need === 0;
                if (inHeader) need = 5;
                header = Buffer.alloc(0);
              }
            } else {
              need -= take;
              if (need === 0) {
                inHeader = true;
                need = 5;
              }
            }
            off += take;
          }
        });
        res.on("end", () => resolve(payload));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(env);
  });
}

const mib = Number(process.argv[2] ?? 1024);
const envd = await startEnvd();
try {
  const file = join(envd.root, "big.bin");
  const block = randomBytes(1024 * 1024);
  await pipeline(
    (function* () {
      for (let i = 0; i < mib; i++) yield block;
    })(),
    createWriteStream(file),
  );
  console.log(`stdout throughput of cat ${mib} MiB (envd = ${envd.kind}, host)`);
  for (const [v, json] of [
    ["1.1", false],
    ["2", false],
    ["1.1", true],
  ] as const) {
    for (let round = 0; round < 2; round++) {
      const t0 = process.hrtime.bigint();
      let bytes = 0;
      for await (const r of envd.client(v, json).start({ process: { cmd: "cat", args: [file] } })) {
        const ev = r.event?.event;
        if (ev?.case === "data") bytes += ev.value.output.value?.length ?? 0;
      }
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (bytes !== mib * 1024 * 1024) throw new Error(`got ${bytes} bytes, expected ${mib * 1024 * 1024}`);
      console.log(
        `connect-es client HTTP/${v.padEnd(3)}${json ? " JSON" : ""} round ${round + 1}: ${(bytes / 1e6 / s).toFixed(0)} MB/s (${s.toFixed(2)} s; goal ≥ 200 MB/s)`,
      );
    }
  }
  for (const json of [false, true]) {
    for (let round = 0; round < 2; round++) {
      const t0 = process.hrtime.bigint();
      const payload = await rawCat(envd.port, file, json);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      // Payload includes each event's framing (protobuf, or JSON around base64: 4/3 of the bytes), and start/end.
      const rate = (json ? (payload * 3) / 4 : payload) / 1e6 / s;
      console.log(
        `raw HTTP/1.1${json ? " JSON" : ""} (no decoding) round ${round + 1}: ${rate.toFixed(0)} MB/s of output (${s.toFixed(2)} s)`,
      );
    }
  }
} finally {
  await envd.stop();
}
