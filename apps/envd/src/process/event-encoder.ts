/**
 * Hand-written protobuf encoding of `StartResponse` / `ConnectResponse` (`{ProcessEvent event = 1}`), the answers
 * of every streamed command, byte for byte what protobuf-es's `toBinary` writes (event-encoder.test.ts compares
 * them). Why: protobuf-es encodes by reflection; under TCG without a JIT that was ~7% of envd's CPU per command, and
 * every output chunk was copied once more than needed.
 *
 * Wire form (process.proto): ProcessEvent is a oneof of start = 1 {uint32 pid = 1}, data = 2 {oneof stdout = 1,
 * stderr = 2, pty = 3: bytes}, end = 3 {sint32 exit_code = 1; bool exited = 2; string status = 3; optional string
 * error = 4}, keepalive = 4 {}. Proto3 leaves out zero scalars; oneof members and set optionals are always written.
 */
import type { ProcessEventInit } from "./events.ts";

/** Bytes of an unsigned varint. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** A growing-free writer over a buffer sized up front. */
class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  bytes(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
}

type Event = NonNullable<ProcessEventInit["event"]>;
type EndValue = Extract<Event, { case: "end" }>["value"];

/** EndEvent's body: its fields, each only when protobuf-es would write it. */
function endFields(end: EndValue): { size: number; write(w: Writer): void } {
  const code = end.exitCode ?? 0;
  // sint32: zigzag, then as an unsigned varint.
  const zigzag = code >= 0 ? code * 2 : -code * 2 - 1;
  const status = end.status ? Buffer.from(end.status) : undefined;
  const error = end.error !== undefined ? Buffer.from(end.error) : undefined;
  let size = 0;
  if (code !== 0) size += 1 + varintSize(zigzag);
  if (end.exited) size += 2;
  if (status) size += 1 + varintSize(status.length) + status.length;
  if (error) size += 1 + varintSize(error.length) + error.length;
  return {
    size,
    write(w) {
      if (code !== 0) {
        w.byte(0x08);
        w.varint(zigzag);
      }
      if (end.exited) {
        w.byte(0x10);
        w.byte(1);
      }
      if (status) {
        w.byte(0x1a);
        w.varint(status.length);
        w.bytes(status);
      }
      if (error) {
        w.byte(0x22);
        w.varint(error.length);
        w.bytes(error);
      }
    },
  };
}

const DATA_TAGS = { stdout: 0x0a, stderr: 0x12, pty: 0x1a } as const;

/** The ProcessEvent's oneof member: its tag and its body. */
function eventBody(event: Event): { tag: number; size: number; write(w: Writer): void } {
  switch (event.case) {
    case "start": {
      const pid = event.value.pid ?? 0;
      return {
        tag: 0x0a,
        size: pid !== 0 ? 1 + varintSize(pid) : 0,
        write(w) {
          if (pid !== 0) {
            w.byte(0x08);
            w.varint(pid);
          }
        },
      };
    }
    case "data": {
      const output = event.value.output;
      if (!output?.case) return { tag: 0x12, size: 0, write() {} };
      const data = output.value;
      return {
        tag: 0x12,
        size: 1 + varintSize(data.length) + data.length,
        write(w) {
          w.byte(DATA_TAGS[output.case]);
          w.varint(data.length);
          w.bytes(data);
        },
      };
    }
    case "end":
      return { tag: 0x1a, ...endFields(event.value) };
    case "keepalive":
      return { tag: 0x22, size: 0, write() {} };
    default:
      throw new Error(`unknown process event ${String(event.case)}`);
  }
}

/** `toBinary(StartResponseSchema, create(StartResponseSchema, message))`, also right for ConnectResponse. */
export function encodeProcessStreamResponse(message: { event?: ProcessEventInit }): Uint8Array {
  const event = message.event?.event;
  if (message.event === undefined) return new Uint8Array(0);
  if (!event?.case) return Buffer.from([0x0a, 0x00]);
  const body = eventBody(event);
  const eventSize = 1 + varintSize(body.size) + body.size;
  const w = new Writer(1 + varintSize(eventSize) + eventSize);
  w.byte(0x0a);
  w.varint(eventSize);
  w.byte(body.tag);
  w.varint(body.size);
  body.write(w);
  return w.buf;
}
