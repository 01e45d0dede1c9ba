import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeControl, MAX_DATA_BYTES, SpawnerFrameDecoder, type SpawnerFrameHandler } from "./spawner-protocol.ts";

/** One frame as the spawner writes it: u8 type, u32 LE id, u32 LE length, payload. */
function frame(type: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head[0] = type;
  head.writeUInt32LE(id, 1);
  head.writeUInt32LE(payload.length, 5);
  return Buffer.concat([head, payload]);
}

function ints(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) b.writeInt32LE(v, 4 * i);
  return b;
}

/** A handler that records every call as text; data of one stream run together is merged (splits are free). */
function recorder(): { handler: SpawnerFrameHandler; calls: string[]; views: Buffer[] } {
  const calls: string[] = [];
  const views: Buffer[] = [];
  const handler: SpawnerFrameHandler = {
    started: (id, pid, stdinFd) => calls.push(`ok ${id} ${pid} ${stdinFd}`),
    failed: (id, errno, stage) => calls.push(`error ${id} ${errno} ${stage}`),
    data: (id, kind, data) => {
      views.push(data);
      const last = calls.at(-1);
      const head = `${kind} ${id} `;
      if (last?.startsWith(head)) calls[calls.length - 1] = last + data.toString("latin1");
      else calls.push(head + data.toString("latin1"));
    },
    eof: (id, kind) => calls.push(`eof ${id} ${kind}`),
    exited: (id, code, signal) => calls.push(`exit ${id} ${code} ${signal}`),
  };
  return { handler, calls, views };
}

const stream = Buffer.concat([
  frame(1, 7, ints(4242, -1)),
  frame(3, 7, Buffer.from("hello ")),
  frame(4, 7, Buffer.from("oops")),
  frame(3, 7, Buffer.from("world")),
  frame(2, 8, Buffer.concat([ints(2), Buffer.from("exec")])),
  frame(5, 7),
  frame(7, 7, ints(3, 0)),
  frame(6, 7),
  frame(1, 9, ints(4243, 12)),
  frame(7, 9, ints(-1, 9)),
  frame(2, 0, Buffer.concat([ints(22), Buffer.from("request")])),
]);
const decoded = [
  "ok 7 4242 -1",
  "stdout 7 hello ",
  "stderr 7 oops",
  "stdout 7 world",
  "error 8 2 exec",
  "eof 7 stdout",
  "exit 7 3 0",
  "eof 7 stderr",
  "ok 9 4243 12",
  "exit 9 -1 9",
  "error 0 22 request",
];

describe("SpawnerFrameDecoder", () => {
  it("decodes many frames of every type from one chunk, handing data on as views of it", () => {
    const { handler, calls, views } = recorder();
    assert.equal(new SpawnerFrameDecoder(handler).push(stream), undefined);
    assert.deepEqual(calls, decoded);
    for (const v of views) assert.equal(v.buffer, stream.buffer, "no copy of the payload");
  });

  it("decodes the same frames however the chunks split them, byte by byte included", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { handler, calls } = recorder();
      const decoder = new SpawnerFrameDecoder(handler);
      assert.equal(decoder.push(stream.subarray(0, cut)), undefined);
      assert.equal(decoder.push(stream.subarray(cut)), undefined);
      assert.deepEqual(calls, decoded, `cut at ${cut}`);
    }
    const { handler, calls } = recorder();
    const decoder = new SpawnerFrameDecoder(handler);
    for (let i = 0; i < stream.length; i++) assert.equal(decoder.push(stream.subarray(i, i + 1)), undefined);
    assert.deepEqual(calls, decoded);
  });

  it("takes a data frame of the largest size split across two reads", () => {
    const payload = Buffer.alloc(MAX_DATA_BYTES, 0x61);
    const bytes = frame(3, 1, payload);
    const { handler, views } = recorder();
    const decoder = new SpawnerFrameDecoder(handler);
    decoder.push(bytes.subarray(0, 65000));
    decoder.push(bytes.subarray(65000));
    assert.deepEqual(Buffer.concat(views), payload);
  });

  for (const [what, bad] of [
    ["an unknown type", frame(8, 1)],
    ["an empty data frame", frame(3, 1)],
    ["a data frame over the limit", frame(4, 1, Buffer.alloc(MAX_DATA_BYTES + 1))],
    ["an OK of the wrong size", frame(1, 1, ints(1))],
    ["an EOF with a payload", frame(5, 1, Buffer.from("x"))],
    ["an ERROR without an errno", frame(2, 1, Buffer.from("ab"))],
  ] as const) {
    it(`fails the channel on ${what}, and decodes nothing after it`, () => {
      const { handler, calls } = recorder();
      const decoder = new SpawnerFrameDecoder(handler);
      const reason = decoder.push(Buffer.concat([frame(5, 1), bad, frame(6, 1)]));
      assert.match(reason ?? "", /^spawner broke the protocol: /);
      assert.deepEqual(calls, ["eof 1 stdout"]);
      assert.equal(decoder.push(frame(6, 1)), reason);
      assert.deepEqual(calls, ["eof 1 stdout"]);
    });
  }
});

describe("encodeControl", () => {
  it("writes a length-prefixed list of NUL-terminated fields", () => {
    const body = Buffer.from("forget\u000042\u0000");
    const expected = Buffer.concat([Buffer.from([body.length, 0, 0, 0]), body]);
    assert.deepEqual(encodeControl("forget", 42), expected);
  });
});
