import { errors } from "../errors.ts";
import type { SpawnSpec } from "./backend.ts";

/**
 * The wire format of wrenn-spawner (images/guest/wrenn-spawner.c, whose header is the reference).
 * Requests: u32 little-endian length + NUL-terminated fields, so argv and env may hold newlines.
 * Answers and events: binary frames, u8 type + u32 LE id + u32 LE payload length + payload.
 */

/** Bytes of a frame's header: type, id, payload length. */
export const FRAME_HEADER_BYTES = 9;
/** Most payload bytes of one STDOUT/STDERR frame: header and payload fit one 64 KiB read. */
export const MAX_DATA_BYTES = 65536 - FRAME_HEADER_BYTES;
/** Longest stage name an ERROR frame may carry (the spawner's are at most 9 characters). */
const MAX_STAGE_BYTES = 64;

const FRAME_OK = 1;
const FRAME_ERROR = 2;
const FRAME_STDOUT = 3;
const FRAME_STDERR = 4;
const FRAME_STDOUT_EOF = 5;
const FRAME_STDERR_EOF = 6;
const FRAME_EXIT = 7;

/** Receives the decoded frames of the spawner's channel; every call names the spawn id it concerns. */
export interface SpawnerFrameHandler {
  /** OK: the process started; `stdinFd` is the spawner's fd of stdin's write end, -1 when it has none. */
  started(id: number, pid: number, stdinFd: number): void;
  /** ERROR: nothing was started; `stage` names the step that failed (id 0: a request too malformed to name one). */
  failed(id: number, errno: number, stage: string): void;
  /** STDOUT/STDERR: bytes of output, a view into the read chunk (a frame split across reads comes in pieces). */
  data(id: number, kind: "stdout" | "stderr", data: Buffer): void;
  /** STDOUT_EOF/STDERR_EOF: that stream ended. */
  eof(id: number, kind: "stdout" | "stderr"): void;
  /** EXIT: the process was reaped; `code` -1 when killed, `signal` 0 when it exited. */
  exited(id: number, code: number, signal: number): void;
}

/**
 * Decodes the spawner's channel as it is read: frames split across chunks, many frames in one chunk. Data is
 * handed on as views (no copy), as soon as it arrives; only a control frame split across reads is assembled.
 */
export class SpawnerFrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerBytes = 0;
  private id = 0;
  private dataKind: "stdout" | "stderr" = "stdout";
  /** Bytes of the current data frame not read yet. */
  private dataLeft = 0;
  /** The current control frame's type and payload, while its payload is split across reads. */
  private controlType = 0;
  private control: Buffer | undefined;
  private controlBytes = 0;
  private failure: string | undefined;

  constructor(private readonly handler: SpawnerFrameHandler) {}

  /**
   * Decodes `chunk`, calling the handler for each frame in it. Returns why the channel is malformed, once it
   * is (it stays failed: nothing after a bad frame can be trusted); undefined while it is sound.
   */
  push(chunk: Buffer): string | undefined {
    if (this.failure !== undefined) return this.failure;
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, end - off);
        this.dataLeft -= n;
        this.handler.data(this.id, this.dataKind, chunk.subarray(off, off + n));
        off += n;
      } else if (this.control) {
        const n = Math.min(this.control.length - this.controlBytes, end - off);
        chunk.copy(this.control, this.controlBytes, off, off + n);
        this.controlBytes += n;
        off += n;
        if (this.controlBytes === this.control.length) {
          const payload = this.control;
          this.control = undefined;
          this.dispatch(this.controlType, payload, 0, payload.length);
        }
      } else if (this.headerBytes === 0 && end - off >= FRAME_HEADER_BYTES) {
        off = this.begin(chunk, off, chunk, off + FRAME_HEADER_BYTES);
      } else {
        const n = Math.min(FRAME_HEADER_BYTES - this.headerBytes, end - off);
        chunk.copy(this.header, this.headerBytes, off, off + n);
        this.headerBytes += n;
        off += n;
        if (this.headerBytes < FRAME_HEADER_BYTES) break;
        this.headerBytes = 0;
        off = this.begin(this.header, 0, chunk, off);
      }
      if (this.failure !== undefined) return this.failure;
    }
    return undefined;
  }

  /** Starts the frame whose header is at `header[at]`; its payload starts at `chunk[off]`. Returns the new offset. */
  private begin(header: Buffer, at: number, chunk: Buffer, off: number): number {
    const type = header[at] as number;
    const id = header.readUInt32LE(at + 1);
    const length = header.readUInt32LE(at + 5);
    this.id = id;
    if (type === FRAME_STDOUT || type === FRAME_STDERR) {
      if (length === 0 || length > MAX_DATA_BYTES) return this.fail(`data frame of ${length} bytes`);
      this.dataKind = type === FRAME_STDOUT ? "stdout" : "stderr";
      this.dataLeft = length;
      return off;
    }
    if (!isControlLength(type, length)) return this.fail(`frame type ${type} with ${length} bytes`);
    if (chunk.length - off >= length) {
      this.dispatch(type, chunk, off, off + length);
      return off + length;
    }
    this.controlType = type;
    this.control = Buffer.allocUnsafe(length);
    this.controlBytes = 0;
    return off;
  }

  private dispatch(type: number, p: Buffer, start: number, end: number): void {
    const h = this.handler;
    if (type === FRAME_OK) h.started(this.id, p.readInt32LE(start), p.readInt32LE(start + 4));
    else if (type === FRAME_EXIT) h.exited(this.id, p.readInt32LE(start), p.readInt32LE(start + 4));
    else if (type === FRAME_STDOUT_EOF) h.eof(this.id, "stdout");
    else if (type === FRAME_STDERR_EOF) h.eof(this.id, "stderr");
    else h.failed(this.id, p.readInt32LE(start), p.toString("latin1", start + 4, end));
  }

  private fail(reason: string): number {
    this.failure = `spawner broke the protocol: ${reason}`;
    return 0;
  }
}

/** Whether `length` is a valid payload length for control frame `type` (false for unknown types). */
function isControlLength(type: number, length: number): boolean {
  if (type === FRAME_OK || type === FRAME_EXIT) return length === 8;
  if (type === FRAME_STDOUT_EOF || type === FRAME_STDERR_EOF) return length === 0;
  if (type === FRAME_ERROR) return length >= 4 && length <= 4 + MAX_STAGE_BYTES;
  return false;
}

function frame(fields: readonly string[]): Buffer {
  for (const f of fields) {
    // A NUL would end the field early and shift every later one: refuse instead of starting something else.
    if (f.includes("\0")) throw errors.invalidArgument("process arguments and environment must not contain NUL");
  }
  // One string, one encode: a Buffer per field cost a few percent of envd's CPU per command under the interpreter.
  const payload = `${fields.join("\0")}\0`;
  const out = Buffer.allocUnsafe(4 + Buffer.byteLength(payload));
  out.writeUInt32LE(out.length - 4, 0);
  out.write(payload, 4);
  return out;
}

/** The spawn request for `spec` (argv[0] is the resolved file, as child_process.spawn does). */
export function encodeSpawn(id: number, spec: SpawnSpec): Buffer {
  const argv = [spec.file, ...spec.args];
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  return frame([
    "spawn",
    String(id),
    spec.file,
    spec.cwd,
    spec.uid === undefined ? "-" : String(spec.uid),
    spec.gid === undefined ? "-" : String(spec.gid),
    spec.stdin ? "1" : "0",
    String(argv.length),
    ...argv,
    String(env.length),
    ...env,
  ]);
}

/**
 * A request about a started process: `release` (close the spawner's copy of stdin's write end), `pause` /
 * `resume` (stop / start reading its output), `forget` (close everything the spawner still holds for it).
 */
export function encodeControl(command: "release" | "pause" | "resume" | "forget", id: number): Buffer {
  return frame([command, String(id)]);
}
