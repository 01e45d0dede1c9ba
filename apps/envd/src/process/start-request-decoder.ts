/**
 * Hand-written protobuf decoding of `StartRequest`, the request of every command, giving the fields envd reads
 * exactly as protobuf-es's `fromBinary` would (start-request-decoder.test.ts compares them). Why: protobuf-es
 * decodes by reflection; under TCG without a JIT that was ~5% of envd's CPU per command.
 *
 * Wire form (process.proto): StartRequest {ProcessConfig process = 1; optional PTY pty = 2; optional string tag = 3;
 * optional bool stdin = 4}; ProcessConfig {string cmd = 1; repeated string args = 2; map<string, string> envs = 3;
 * optional string cwd = 4}; PTY {Size size = 1}; Size {uint32 cols = 1; uint32 rows = 2}. As protobuf-es does: a
 * message field that occurs twice is merged, the last scalar wins, unknown fields are skipped, strings must be valid
 * UTF-8. A message that ends inside a field, or a known field with the wrong wire type, is refused.
 */
import { isUtf8 } from "node:buffer";

/** What envd reads of a StartRequest; protobuf-es's `StartRequest` has these fields too. */
export interface StartRequestFields {
  process?: { cmd: string; args: string[]; envs: { [key: string]: string }; cwd?: string };
  pty?: { size?: { cols: number; rows: number } };
  tag?: string;
  stdin?: boolean;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint's low 32 bits, unsigned (uint32 and bool fields; longer varints are read to their end). */
  uint32(): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.byte();
      if (shift < 32) value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value % 2 ** 32;
    }
    throw new Error("invalid varint");
  }

  /** A bool: any varint that is not zero. */
  bool(): boolean {
    let isSet = false;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if (b & 0x7f) isSet = true;
      if (b < 0x80) return isSet;
    }
    throw new Error("invalid varint");
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error("premature end of message");
    return this.buf[this.pos++] as number;
  }

  /** The end of a length-delimited field that starts here. */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.buf.length) throw new Error("premature end of message");
    return end;
  }

  /** A string, refused unless valid UTF-8 (protobuf-es checks proto3 strings strictly). */
  string(): string {
    const end = this.lengthEnd();
    if (!isUtf8(this.buf.subarray(this.pos, end))) throw new Error("invalid UTF-8");
    const s = this.buf.toString("utf8", this.pos, end);
    this.pos = end;
    return s;
  }

  /** Skips a field this decoder does not know. */
  skip(fieldNo: number, wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.uint32();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case FIXED32:
        this.advance(4);
        return;
      case LENGTH_DELIMITED:
        this.pos = this.lengthEnd();
        return;
      case START_GROUP:
        for (;;) {
          const [no, type] = this.tag();
          if (type === END_GROUP) {
            if (no !== fieldNo) throw new Error("invalid end group tag");
            return;
          }
          this.skip(no, type);
        }
      default:
        throw new Error(`cannot skip wire type ${wireType}`);
    }
  }

  advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error("premature end of message");
    this.pos += n;
  }

  tag(): [fieldNo: number, wireType: number] {
    const tag = this.uint32();
    const fieldNo = tag >>> 3;
    if (fieldNo === 0) throw new Error("illegal field number 0");
    return [fieldNo, tag & 7];
  }
}

/** Reads the fields of one message up to `end`, handing each known field number to `field`. */
function fields(r: Reader, end: number, field: (fieldNo: number, wireType: number) => boolean): void {
  while (r.pos < end) {
    const [fieldNo, wireType] = r.tag();
    if (!field(fieldNo, wireType)) r.skip(fieldNo, wireType);
  }
  if (r.pos !== end) throw new Error("premature end of message");
}

/** Whether `wireType` is the one field `fieldNo` needs; false (skip it) for unknown fields, throws on a mismatch. */
function expect(wireType: number, wanted: number, fieldNo: number): true {
  if (wireType !== wanted) throw new Error(`field ${fieldNo}: wire type ${wireType}, expected ${wanted}`);
  return true;
}

function processConfig(r: Reader, target: NonNullable<StartRequestFields["process"]>): void {
  fields(r, r.lengthEnd(), (no, type) => {
    if (no === 1 && expect(type, LENGTH_DELIMITED, no)) target.cmd = r.string();
    else if (no === 2 && expect(type, LENGTH_DELIMITED, no)) target.args.push(r.string());
    else if (no === 3 && expect(type, LENGTH_DELIMITED, no)) {
      let key = "";
      let value = "";
      fields(r, r.lengthEnd(), (entryNo, entryType) => {
        if (entryNo === 1 && expect(entryType, LENGTH_DELIMITED, entryNo)) key = r.string();
        else if (entryNo === 2 && expect(entryType, LENGTH_DELIMITED, entryNo)) value = r.string();
        else return false;
        return true;
      });
      target.envs[key] = value;
    } else if (no === 4 && expect(type, LENGTH_DELIMITED, no)) target.cwd = r.string();
    else return false;
    return true;
  });
}

function pty(r: Reader, target: NonNullable<StartRequestFields["pty"]>): void {
  fields(r, r.lengthEnd(), (no, type) => {
    if (no !== 1 || !expect(type, LENGTH_DELIMITED, no)) return false;
    target.size ??= { cols: 0, rows: 0 };
    const size = target.size;
    fields(r, r.lengthEnd(), (sizeNo, sizeType) => {
      if (sizeNo === 1 && expect(sizeType, VARINT, sizeNo)) size.cols = r.uint32();
      else if (sizeNo === 2 && expect(sizeType, VARINT, sizeNo)) size.rows = r.uint32();
      else return false;
      return true;
    });
    return true;
  });
}

/** `fromBinary(StartRequestSchema, bytes)`, for the fields envd reads. Throws on a malformed message. */
export function decodeStartRequest(bytes: Uint8Array): StartRequestFields {
  const r = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out: StartRequestFields = {};
  fields(r, bytes.byteLength, (no, type) => {
    if (no === 1 && expect(type, LENGTH_DELIMITED, no)) {
      out.process ??= { cmd: "", args: [], envs: {} };
      processConfig(r, out.process);
    } else if (no === 2 && expect(type, LENGTH_DELIMITED, no)) {
      out.pty ??= {};
      pty(r, out.pty);
    } else if (no === 3 && expect(type, LENGTH_DELIMITED, no)) out.tag = r.string();
    else if (no === 4 && expect(type, VARINT, no)) out.stdin = r.bool();
    else return false;
    return true;
  });
  return out;
}
