import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { process as pb } from "@wrenn/protocol";
import { decodeStartRequest, type StartRequestFields } from "./start-request-decoder.ts";

/** protobuf-es's decoding, cut down to the fields the hand-written decoder gives: the reference it must equal. */
function reference(bytes: Uint8Array): StartRequestFields {
  const m = fromBinary(pb.StartRequestSchema, bytes);
  const out: StartRequestFields = {};
  if (m.process) {
    const { cmd, args, envs, cwd } = m.process;
    out.process = { cmd, args: [...args], envs: { ...envs }, ...(cwd !== undefined ? { cwd } : {}) };
  }
  if (m.pty) out.pty = m.pty.size ? { size: { cols: m.pty.size.cols, rows: m.pty.size.rows } } : {};
  if (m.tag !== undefined) out.tag = m.tag;
  if (m.stdin !== undefined) out.stdin = m.stdin;
  return out;
}

/** Both decoders on `bytes`: equal results, or both refuse it. */
function assertSame(bytes: Uint8Array, what: string): void {
  let want: StartRequestFields | Error;
  try {
    want = reference(bytes);
  } catch (err) {
    want = err as Error;
  }
  if (want instanceof Error) {
    assert.throws(() => decodeStartRequest(bytes), `${what}: protobuf-es refused it (${want.message})`);
    return;
  }
  assert.deepEqual(decodeStartRequest(bytes), want, what);
}

// Raw protobuf writing, for what protobuf-es never writes itself (repeats, unknown fields, odd varints).
const varint = (n: bigint): number[] => {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  return [...out, Number(n)];
};
const key = (no: number, wireType: number) => varint(BigInt(no * 8 + wireType));
const ld = (no: number, body: number[]) => [...key(no, 2), ...varint(BigInt(body.length)), ...body];
const str = (no: number, s: string) => ld(no, [...Buffer.from(s)]);
const int = (no: number, n: bigint) => [...key(no, 0), ...varint(n)];
const unknowns = [
  ...int(15, 7n),
  ...key(16, 1),
  ...[1, 2, 3, 4, 5, 6, 7, 8],
  ...key(17, 5),
  ...[1, 2, 3, 4],
  ...str(18, "x"),
  ...key(19, 3),
  ...int(1, 1n),
  ...key(19, 4),
];

const encoded: Array<[string, Parameters<typeof create<typeof pb.StartRequestSchema>>[1]]> = [
  ["empty", {}],
  ["a command", { process: { cmd: "/bin/true" } }],
  [
    "everything",
    {
      process: {
        cmd: "/bin/bash",
        args: ["-l", "-c", "echo ✓ 'ü' \n done", ""],
        envs: { A: "1", EMPTY: "", "": "no name", LONG: "v".repeat(300) },
        cwd: "/tmp/🙂",
      },
      pty: { size: { cols: 200, rows: 50 } },
      tag: "build",
      stdin: false,
    },
  ],
  ["empty strings set", { process: { cmd: "", cwd: "" }, tag: "", stdin: true }],
  ["a pty without a size", { process: { cmd: "sh" }, pty: {} }],
  ["a pty of size zero", { process: { cmd: "sh" }, pty: { size: {} } }],
  ["a pty at the uint32 limit", { process: { cmd: "sh" }, pty: { size: { cols: 2 ** 32 - 1, rows: 1 } } }],
];

describe("decodeStartRequest", () => {
  it("equals protobuf-es on what protobuf-es writes, and on every cut-off prefix of it", () => {
    for (const [what, init] of encoded) {
      const bytes = toBinary(pb.StartRequestSchema, create(pb.StartRequestSchema, init));
      assertSame(bytes, what);
      for (let n = 0; n < bytes.length; n++) assertSame(bytes.subarray(0, n), `${what}, first ${n} bytes`);
    }
  });

  it("merges repeated messages, keeps the last scalar and skips unknown fields at every level, as protobuf-es", () => {
    const cases: Array<[string, number[]]> = [
      [
        "process twice, merged",
        [...ld(1, [...str(1, "a"), ...str(2, "x")]), ...ld(1, [...str(2, "y"), ...str(4, "/")])],
      ],
      ["cmd twice", [...ld(1, [...str(1, "a"), ...str(1, "b")])]],
      ["tag and stdin twice", [...str(3, "one"), ...int(4, 1n), ...str(3, "two"), ...int(4, 0n)]],
      [
        "an env key twice",
        [...ld(1, [...ld(3, [...str(1, "K"), ...str(2, "1")]), ...ld(3, [...str(1, "K"), ...str(2, "2")])])],
      ],
      ["map entries without key or value", [...ld(1, [...ld(3, str(2, "v")), ...ld(3, str(1, "k")), ...ld(3, [])])]],
      ["map entry with its fields reversed", [...ld(1, [...ld(3, [...str(2, "v"), ...str(1, "k")])])]],
      [
        "unknown fields everywhere",
        [
          ...unknowns,
          // (Not inside a map entry: protobuf-es reads an entry's unknown field's tag but not its value.)
          ...ld(1, [...unknowns, ...ld(3, [...str(1, "k")])]),
          ...ld(2, [...unknowns, ...ld(1, [...unknowns, ...int(1, 3n)])]),
          ...unknowns,
        ],
      ],
      ["pty twice, sizes merged", [...ld(2, ld(1, int(1, 80n))), ...ld(2, ld(1, int(2, 24n)))]],
      ["a stdin varint of 2^32", [...int(4, 2n ** 32n)]],
      ["a stdin varint of 2^63", [...int(4, 2n ** 63n)]],
      ["cols as a 64-bit varint", [...ld(2, ld(1, int(1, 2n ** 40n + 5n)))]],
      ["invalid UTF-8 in a string", [...ld(1, [...key(1, 2), 3, 0xff, 0xc3, 0x28])]],
      ["an end group with no start", [...key(9, 4)]],
      ["field number 0", [...key(0, 0), 1]],
      ["an unterminated varint", [...key(4, 0), 0x80, 0x80]],
      ["a length past the end", [...key(3, 2), 5, 0x61]],
    ];
    for (const [what, raw] of cases) assertSame(Uint8Array.from(raw), what);
  });

  it("skips an unknown field inside a map entry (where protobuf-es misreads it)", () => {
    const bytes = Uint8Array.from(ld(1, ld(3, [...int(9, 5n), ...str(1, "k"), ...str(2, "v")])));
    assert.deepEqual(decodeStartRequest(bytes).process?.envs, { k: "v" });
  });

  it("refuses a known field with the wrong wire type", () => {
    assert.throws(() => decodeStartRequest(Uint8Array.from(int(1, 1n))), /wire type/);
    assert.throws(() => decodeStartRequest(Uint8Array.from(str(4, "yes"))), /wire type/);
  });
});
