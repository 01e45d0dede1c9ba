/**
 * envd's fast path for HTTP/1.1: frames plain keep-alive requests itself and answers the ones its `serve` takes
 * (uncompressed Connect calls, `GET /health`) without Node's HTTP server. The first request it does not take (anything
 * else envd serves, anything unusual in its framing, a wrong token) hands the connection, from that request's first
 * byte, to Node's server for good, which answers it as before.
 *
 * Why: Node's server costs ~240 µs of interpreted JavaScript per request on a host (IncomingMessage, ServerResponse
 * and the stream machinery under both), against ~40 µs for reading and writing the same bytes on the socket. That was
 * a quarter of envd's CPU per started command, and under TCG every microsecond of it is ~20 of emulated guest work.
 *
 * Only the plainest requests stay here, so nothing is parsed two ways: an origin-form target, HTTP/1.1, a Host, a
 * Content-Length, a chunked body without extensions or trailers (what Node's HTTP client sends, so the agent's
 * calls) or no body; no other Transfer-Encoding, no Expect, Upgrade or `Connection` other than keep-alive, no
 * header twice, no obsolete line folding. Everything else is Node's.
 */
import { EventEmitter } from "node:events";
import { type IncomingHttpHeaders, STATUS_CODES } from "node:http";
import type net from "node:net";
import { BufferedRequest, type PlainResponse } from "@wrenn/connect-unary";

/** Answers `req` and returns true, or returns false having written nothing (Node's server takes it then). */
export type FastPath = (req: BufferedRequest, res: LeanH1Response, socket: net.Socket) => boolean;

/** Node's defaults: a head larger than this is refused (431) by its server, so it goes there. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Bodies above this go to Node's server, which streams them. Connect requests on the fast path are small. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Unparsed bytes held while a response is in progress (pipelining) before the socket is paused. */
const MAX_PENDING_BYTES = 1024 * 1024;
/** Chunks written in one turn of the event loop are sent together, unless they reach this many bytes. */
const FLUSH_BYTES = 64 * 1024;
/** As Node's server was configured (`keepAliveTimeout`): an idle connection is closed after this. */
export const KEEP_ALIVE_MS = 65_000;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, spaces and tabs: a field value without control characters. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REQUEST_LINE = /^(GET|POST) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const CONTENT_LENGTH = /^\d{1,10}$/;
/** Headers that change what the connection does: such requests are Node's. */
const NODE_ONLY = new Set(["expect", "upgrade", "te"]);
/** A chunk-size line without extensions: at most 8 hex digits (the body limit is far below 4 GiB anyway). */
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,8}$/;

/** A parsed request head. */
interface Head {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  headBytes: number;
  /** The body's length, or "chunked" when it comes in chunks. */
  bodyBytes: number | "chunked";
}

/** Parses the head at the start of `buf`: "incomplete" until its end arrived, "node" when it is not for us. */
export function parseHead(buf: Buffer): Head | "incomplete" | "node" {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return buf.length > MAX_HEAD_BYTES ? "node" : "incomplete";
  if (end > MAX_HEAD_BYTES) return "node";
  const lines = buf.toString("latin1", 0, end).split("\r\n");
  const line = REQUEST_LINE.exec(lines[0] as string);
  if (!line) return "node";
  // No prototype: a header named like an Object property ("constructor", "__proto__") is just a header.
  const headers: IncomingHttpHeaders = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i] as string;
    const colon = text.indexOf(":");
    if (colon <= 0) return "node";
    const name = text.slice(0, colon);
    const value = text.slice(colon + 1).trim();
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return "node";
    const key = name.toLowerCase();
    if (NODE_ONLY.has(key) || key in headers) return "node";
    headers[key] = value;
  }
  if (headers.host === undefined) return "node";
  const connection = headers.connection;
  if (connection !== undefined && connection.toLowerCase() !== "keep-alive") return "node";
  const length = headers["content-length"];
  const coding = headers["transfer-encoding"];
  if (coding !== undefined) {
    // Only plain chunked, and never beside a length: a request two parsers could frame differently is Node's.
    if (coding.toLowerCase() !== "chunked" || length !== undefined) return "node";
    return { method: line[1] as string, url: line[2] as string, headers, headBytes: end + 4, bodyBytes: "chunked" };
  }
  if (length !== undefined && !CONTENT_LENGTH.test(length)) return "node";
  const bodyBytes = length === undefined ? 0 : Number(length);
  if (bodyBytes > MAX_BODY_BYTES) return "node";
  return { method: line[1] as string, url: line[2] as string, headers, headBytes: end + 4, bodyBytes };
}

/**
 * The chunked body that starts at `from`: its bytes and where the request ends, "incomplete" until its last chunk
 * arrived, "node" for chunk extensions, trailers, anything malformed or a body above the limit.
 */
export function parseChunkedBody(buf: Buffer, from: number): { body: Buffer; end: number } | "incomplete" | "node" {
  const chunks: Buffer[] = [];
  let size = 0;
  for (let at = from; ; ) {
    const lineEnd = buf.indexOf("\r\n", at);
    if (lineEnd < 0) return buf.length - at > 10 ? "node" : "incomplete";
    const sizeLine = buf.toString("latin1", at, lineEnd);
    if (!CHUNK_SIZE.test(sizeLine)) return "node";
    const n = Number.parseInt(sizeLine, 16);
    size += n;
    if (size > MAX_BODY_BYTES) return "node";
    const dataEnd = lineEnd + 2 + n;
    if (buf.length < dataEnd + 2) return "incomplete";
    if (buf[dataEnd] !== 13 || buf[dataEnd + 1] !== 10) return "node"; // a trailer after the last chunk, or junk
    if (n === 0) return { body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), end: dataEnd + 2 };
    chunks.push(buf.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}

/**
 * One connection while it is on the fast path: requests are answered one at a time, in order; bytes of the next
 * ones wait until the current response ended.
 */
export class LeanH1Connection {
  private buf: Buffer;
  private current: LeanH1Response | undefined;
  private isDone = false;
  private isScheduled = false;

  constructor(
    private readonly socket: net.Socket,
    first: Buffer,
    private readonly serve: FastPath,
    /** Gives the socket, with these bytes put back in front, to Node's server. */
    private readonly handOver: (socket: net.Socket, unread: Buffer) => void,
    keepAliveMs = KEEP_ALIVE_MS,
  ) {
    this.buf = first;
    socket.on("data", this.onData);
    socket.once("close", this.onClose);
    // A listener of our own: the one setTimeout() takes is removed after it fired once.
    socket.on("timeout", this.onTimeout);
    socket.setTimeout(keepAliveMs);
    this.process();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.current) {
      if (this.buf.length > MAX_PENDING_BYTES) this.socket.pause();
      return;
    }
    this.process();
  };

  private readonly onClose = (): void => {
    this.isDone = true;
    this.current?.connectionClosed();
  };

  /** Idle too long: closed, as Node's server closes an idle keep-alive connection. A response may take its time. */
  private readonly onTimeout = (): void => {
    if (!this.current) this.socket.destroy();
  };

  /** The response in progress ended: the next request may be served (in a later tick, not inside its `end`). */
  responseEnded(res: LeanH1Response): void {
    if (res !== this.current) return;
    this.current = undefined;
    if (this.isScheduled) return;
    this.isScheduled = true;
    process.nextTick(() => {
      this.isScheduled = false;
      if (this.socket.isPaused()) this.socket.resume();
      this.process();
    });
  }

  private process(): void {
    while (!this.isDone && !this.current && this.buf.length > 0) {
      const head = parseHead(this.buf);
      if (head === "incomplete") return;
      if (head === "node") {
        this.toNode();
        return;
      }
      let body: Buffer;
      let total: number;
      if (head.bodyBytes === "chunked") {
        const chunked = parseChunkedBody(this.buf, head.headBytes);
        if (chunked === "incomplete") return;
        if (chunked === "node") {
          this.toNode();
          return;
        }
        ({ body, end: total } = chunked);
      } else {
        total = head.headBytes + head.bodyBytes;
        if (this.buf.length < total) return;
        body = this.buf.subarray(head.headBytes, total);
      }
      const req = new BufferedRequest(head.method, head.url, head.headers, body);
      const res = new LeanH1Response(this.socket, this);
      this.current = res;
      let taken: boolean;
      try {
        taken = this.serve(req, res, this.socket);
      } catch {
        // Handlers answer their own errors; one that throws anyway leaves a response nobody can finish.
        this.socket.destroy();
        return;
      }
      if (!taken) {
        this.current = undefined;
        this.toNode();
        return;
      }
      this.buf = this.buf.subarray(total);
      if (res.writableEnded) this.current = undefined;
    }
  }

  private toNode(): void {
    this.isDone = true;
    this.socket.off("data", this.onData);
    this.socket.off("close", this.onClose);
    this.socket.setTimeout(0);
    this.socket.off("timeout", this.onTimeout);
    this.handOver(this.socket, this.buf);
  }
}

/** The Date header's value, made at most once a second (as Node's server does). */
let dateSecond = 0;
let dateValue = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

/**
 * A response written straight to the socket. Chunks written in one tick go out as one write; a response that ends
 * in the tick it started (a short command's whole stream, every unary answer) goes out as one write with a
 * Content-Length, others with chunked framing. `write` answers false while the socket is full, and "drain" follows.
 */
export class LeanH1Response extends EventEmitter implements PlainResponse {
  private status = 200;
  private fields: Record<string, string> = {};
  private isHeadSent = false;
  private hasLength = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private isFlushScheduled = false;
  private isWaitingForDrain = false;
  writableEnded = false;
  destroyed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly connection: LeanH1Connection,
  ) {
    super();
  }

  writeHead(status: number, headers: Record<string, string>): this {
    for (const name in headers) {
      // Refused here, as Node refuses them, not when the head is written in a later tick: a field must not smuggle
      // a line break into the head.
      if (!TOKEN.test(name) || !FIELD_VALUE.test(String(headers[name]))) {
        throw new TypeError(`invalid response header ${JSON.stringify(name)}`);
      }
    }
    this.status = status;
    this.fields = headers;
    return this;
  }

  write(chunk: Uint8Array): boolean {
    if (this.writableEnded || this.destroyed) return false;
    this.pending.push(asBuffer(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.isFlushScheduled) {
      this.isFlushScheduled = true;
      process.nextTick(this.flushScheduled);
    }
    return !this.isWaitingForDrain;
  }

  end(chunk?: Uint8Array): this {
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    if (chunk && chunk.length > 0) {
      this.pending.push(asBuffer(chunk));
      this.pendingBytes += chunk.length;
    }
    const parts: Buffer[] = [];
    if (!this.isHeadSent) {
      // Nothing went out yet: the whole body is known, so it goes with its length and no chunk framing.
      if (!("content-length" in this.fields)) this.fields["content-length"] = String(this.pendingBytes);
      parts.push(this.head());
      parts.push(...this.pending);
    } else {
      this.frameChunks(parts);
      if (!this.hasLength) parts.push(LAST_CHUNK);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    this.connection.responseEnded(this);
    this.emit("close");
    return this;
  }

  /** The connection closed before the response ended: the writer is told by "close". */
  connectionClosed(): void {
    if (this.writableEnded || this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }

  private readonly flushScheduled = (): void => {
    this.isFlushScheduled = false;
    if (!this.writableEnded && !this.destroyed) this.flush();
  };

  private flush(): void {
    if (this.pending.length === 0) return;
    const parts: Buffer[] = [];
    if (!this.isHeadSent) parts.push(this.head());
    this.frameChunks(parts);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))) this.waitForDrain();
  }

  private waitForDrain(): void {
    if (this.isWaitingForDrain) return;
    this.isWaitingForDrain = true;
    this.socket.once("drain", () => {
      this.isWaitingForDrain = false;
      if (!this.writableEnded && !this.destroyed) this.emit("drain");
    });
  }

  /** The pending chunks, in chunked framing unless the head gave a length. */
  private frameChunks(parts: Buffer[]): void {
    if (this.pendingBytes === 0) return;
    if (this.hasLength) {
      parts.push(...this.pending);
      return;
    }
    parts.push(Buffer.from(`${this.pendingBytes.toString(16)}\r\n`, "latin1"), ...this.pending, CRLF);
  }

  /** The status line and fields, with the framing this response uses from here on. */
  private head(): Buffer {
    this.isHeadSent = true;
    this.hasLength = "content-length" in this.fields;
    let text = `HTTP/1.1 ${this.status} ${STATUS_CODES[this.status] ?? "Unknown"}\r\n`;
    for (const name in this.fields) text += `${name}: ${this.fields[name]}\r\n`;
    text += `date: ${httpDate()}\r\nconnection: keep-alive\r\nkeep-alive: timeout=${KEEP_ALIVE_MS / 1000}\r\n`;
    if (!this.hasLength) text += "transfer-encoding: chunked\r\n";
    return Buffer.from(`${text}\r\n`, "latin1");
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}
