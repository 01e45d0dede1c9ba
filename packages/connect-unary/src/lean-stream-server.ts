/**
 * Serves a service's server-streaming methods in Connect's streaming protocol (connectrpc.com/docs/protocol,
 * "Streaming-Request" and "Streaming-Response"), binary or JSON, with little per-call and per-message work: one
 * enveloped request message in; enveloped answers out as the method yields them, each written as soon as it exists and
 * the next one only once the connection took it (backpressure); then the end-of-stream message with the error or the
 * trailers. Compressed calls and everything else are left to connect-es, as in `lean-unary-server.ts`.
 *
 * Why: envd streams every command's output this way, and under TCG each step of connect-es's async-iterable
 * pipeline (split, parse, serialize and join envelopes, per message) is emulated guest work.
 */
import type { DescMethodServerStreaming, DescService } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { endStreamFlag, endStreamToJson, parseTimeout } from "@connectrpc/connect/protocol-connect";
import { binaryCodec, type Codec, jsonCodec } from "./codec.ts";
import type { PushStreamCall, PushStreamMethod } from "./push-stream.ts";
import {
  isGone,
  type LeanHandler,
  matchCall,
  methodPath,
  type PlainResponse,
  type Request,
  type Response,
  readBody,
  requestHeaders,
  toConnectError,
} from "./wire.ts";

/** The streaming content types the lean path speaks. */
const CONTENT_TYPE_STREAM_PROTO = "application/connect+proto";
const CONTENT_TYPE_STREAM_JSON = "application/connect+json";

/** Options of the handler. */
export interface LeanStreamHandlerOptions<S extends DescService> {
  readonly service: S;
  /** Its server-streaming methods must be async generators (as connect-es calls them). */
  readonly impl: ServiceImpl<S>;
  /**
   * Push-style versions of some of those methods, by local name (see `push-stream.ts`): served directly here, where
   * `impl` keeps a generator of the same method (`pushAsGenerator`) for connect-es.
   */
  readonly push?: Readonly<Record<string, PushStreamMethod<never, never>>>;
  /** Largest request body accepted; connect-es's default (4 GiB - 1) unless set. */
  readonly readMaxBytes?: number;
  /**
   * Hand-written encoders of hot methods' answers, by the method's local name: each gets what the method yielded and
   * must return exactly the bytes `toBinary(create(output, message))` would. Why: protobuf-es encodes by reflection,
   * which for envd's process events cost ~7% of its CPU per streamed command under the interpreter.
   */
  readonly encoders?: Readonly<Record<string, (message: never) => Uint8Array>>;
  /**
   * The same for JSON answers: each must return exactly `toJsonString(create(output, message))` as UTF-8. Why:
   * protobuf-es also base64-encodes bytes fields in JavaScript, ~10x slower than Buffer's native base64.
   */
  readonly jsonEncoders?: Readonly<Record<string, (message: never) => Uint8Array>>;
  /**
   * Hand-written decoders of hot methods' requests, by local name: each must give what the method reads of
   * `fromBinary(input, bytes)`, and throw where it throws. Why: as for `encoders`, reflection costs.
   */
  readonly decoders?: Readonly<Record<string, (bytes: Uint8Array) => unknown>>;
}

type StreamFn = (message: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
type PushFn = PushStreamMethod<unknown, unknown>;
type Encode = (message: unknown) => Uint8Array;
type Decode = (bytes: Uint8Array) => unknown;
interface Entry {
  method: DescMethodServerStreaming;
  fn: StreamFn;
  push: PushFn | undefined;
  proto: Codec;
  json: Codec;
}

/** The handler of `service`'s server-streaming methods (no interceptors: use connect-es where they are needed). */
export function leanServerStreamHandler<S extends DescService>(o: LeanStreamHandlerOptions<S>): LeanHandler {
  const readMaxBytes = o.readMaxBytes ?? 0xffffffff;
  const calls = new Map<string, Entry>();
  for (const m of o.service.methods) {
    if (m.methodKind !== "server_streaming") continue;
    const fn = (o.impl as Record<string, unknown>)[m.localName];
    if (typeof fn !== "function") continue;
    const method = m as DescMethodServerStreaming;
    const encode =
      (o.encoders?.[m.localName] as Encode | undefined) ??
      ((out: unknown) => toBinary(method.output, create(method.output, out as never)));
    const decode = o.decoders?.[m.localName] ?? ((bytes: Uint8Array) => fromBinary(method.input, bytes));
    const push = o.push?.[m.localName] as PushFn | undefined;
    const json = jsonCodec(method.input, method.output, CONTENT_TYPE_STREAM_JSON);
    calls.set(methodPath(m), {
      method,
      fn: fn.bind(o.impl) as StreamFn,
      push,
      proto: binaryCodec(CONTENT_TYPE_STREAM_PROTO, decode, encode),
      json: {
        ...json,
        // Methods yield init shapes; protobuf-es's JSON writer wants the message.
        encode:
          (o.jsonEncoders?.[m.localName] as Encode | undefined) ??
          ((out) => json.encode(create(method.output, out as never))),
      },
    });
  }
  return (req, res) => {
    const isJson = req.headers["content-type"] === CONTENT_TYPE_STREAM_JSON;
    const contentType = isJson ? CONTENT_TYPE_STREAM_JSON : CONTENT_TYPE_STREAM_PROTO;
    const entry = matchCall(calls, req, contentType, "connect-content-encoding");
    if (!entry) return false;
    const codec = isJson ? entry.json : entry.proto;
    const call = new ServerStreamCall(req, res, codec);
    if (entry.push) void servePush(entry, codec, call, req, readMaxBytes);
    else void serveGenerator(entry, codec, call, req, res, readMaxBytes);
    return true;
  };
}

/** One envelope: flags, big-endian length, data. */
function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}

/** The request's single message, or why there is none. */
function requestMessage(decode: Decode, body: Buffer): unknown {
  if (body.length < 5) throw new ConnectError("protocol error: missing request message", Code.InvalidArgument);
  if ((body[0] ?? 0) !== 0) throw new ConnectError("protocol error: unexpected envelope flags", Code.InvalidArgument);
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) {
    throw new ConnectError("protocol error: expected exactly one request message", Code.InvalidArgument);
  }
  return decode(body.subarray(5));
}

/** The end of a stream that ended without error or trailers (`{}`), the usual one. */
const PLAIN_END = envelope(endStreamFlag, Buffer.from("{}"));

/**
 * One call's response: enveloped messages written as they are sent, then the end-of-stream message. It is the
 * `PushStreamCall` a push method gets; the generator path drives the same object. A caller that hangs up, or a
 * deadline from `connect-timeout-ms`, cancels it.
 */
class ServerStreamCall implements PushStreamCall<unknown> {
  private isEnded = false;
  private isCancelled = false;
  private headSent = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly drainListeners: Array<() => void> = [];
  private readonly cancelListeners: Array<(reason: ConnectError) => void> = [];
  private isWaitingForDrain = false;
  private headers: Headers | undefined;
  // Made when a method first touches them: most never do, and each `Headers` costs JavaScript to build.
  responseHeader: Headers | undefined;
  responseTrailer: Headers | undefined;

  constructor(
    private readonly req: Request,
    private readonly res: Response,
    private readonly codec: Codec,
  ) {
    res.once("close", () => {
      if (!this.isEnded) this.cancel(new ConnectError("the caller went away", Code.Canceled));
    });
  }

  get requestHeader(): Headers {
    this.headers ??= requestHeaders(this.req);
    return this.headers;
  }

  get isDone(): boolean {
    return this.isEnded || this.isCancelled;
  }

  /** Arms the caller's deadline; undefined when none was asked for. */
  startDeadline(timeoutMs: number | undefined): void {
    if (timeoutMs === undefined) return;
    this.timer = setTimeout(() => {
      const reason = new ConnectError("the operation timed out", Code.DeadlineExceeded);
      this.cancel(reason);
      this.finish(reason);
    }, timeoutMs);
  }

  send(message: unknown): boolean {
    if (this.isDone || isGone(this.res)) return false;
    this.sendHead();
    if ((this.res as PlainResponse).write(envelope(0, this.codec.encode(message)))) return true;
    if (!this.isWaitingForDrain) {
      this.isWaitingForDrain = true;
      this.res.once("drain", () => {
        this.isWaitingForDrain = false;
        if (!this.isDone) for (const l of this.drainListeners) l();
      });
    }
    return false;
  }

  end(error?: unknown): void {
    if (this.isDone) return;
    this.finish(error === undefined ? undefined : toConnectError(error));
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  onCancel(listener: (reason: ConnectError) => void): void {
    this.cancelListeners.push(listener);
  }

  private cancel(reason: ConnectError): void {
    if (this.isDone) return;
    this.isCancelled = true;
    if (this.timer) clearTimeout(this.timer);
    for (const l of this.cancelListeners) l(reason);
  }

  /** Writes the end-of-stream message (once; not after the caller went away). */
  finish(error: ConnectError | undefined): void {
    if (this.isEnded) return;
    this.isEnded = true;
    if (this.timer) clearTimeout(this.timer);
    if (isGone(this.res)) return;
    this.sendHead();
    if (!error && !this.responseTrailer?.keys().next().value) {
      (this.res as PlainResponse).end(PLAIN_END);
      return;
    }
    const end = JSON.stringify(endStreamToJson(this.responseTrailer ?? new Headers(), error, undefined));
    (this.res as PlainResponse).end(envelope(endStreamFlag, Buffer.from(end)));
  }

  private sendHead(): void {
    if (this.headSent) return;
    this.headSent = true;
    const head: Record<string, string> = {};
    if (this.responseHeader) for (const [k, v] of this.responseHeader) head[k] = v;
    head["content-type"] = this.codec.contentType;
    (this.res as PlainResponse).writeHead(200, head);
  }
}

/** Reads the deadline and the request message; a failure ends the call and answers undefined. */
async function callRequest(codec: Codec, call: ServerStreamCall, req: Request, readMaxBytes: number) {
  try {
    const timeout = parseTimeout((req.headers["connect-timeout-ms"] as string | undefined) ?? null, 2 ** 31 - 1);
    if (timeout.error) throw timeout.error;
    call.startDeadline(timeout.timeoutMs);
    const message = requestMessage(codec.decode, await readBody(req, readMaxBytes));
    return { message, timeoutMs: timeout.timeoutMs };
  } catch (err) {
    call.finish(toConnectError(err));
    return undefined;
  }
}

async function servePush(
  entry: Entry,
  codec: Codec,
  call: ServerStreamCall,
  req: Request,
  readMaxBytes: number,
): Promise<void> {
  const request = await callRequest(codec, call, req, readMaxBytes);
  if (!request || call.isDone) return;
  try {
    (entry.push as PushFn)(request.message, call);
  } catch (err) {
    call.end(err);
  }
}

async function serveGenerator(
  entry: Entry,
  codec: Codec,
  call: ServerStreamCall,
  req: Request,
  res: Response,
  readMaxBytes: number,
): Promise<void> {
  const request = await callRequest(codec, call, req, readMaxBytes);
  if (!request) return;
  const abort = new AbortController();
  // The call's cancellation (caller gone, deadline) aborts the method's signal, which ends what it iterates.
  call.onCancel((reason) => abort.abort(reason));
  if (call.isDone) abort.abort(new ConnectError("the caller went away", Code.Canceled));
  const deadline = request.timeoutMs === undefined ? undefined : Date.now() + request.timeoutMs;
  const { method } = entry;
  const ctx: HandlerContext = {
    service: method.parent,
    method,
    protocolName: "connect",
    requestMethod: "POST",
    url: req.url ?? "",
    signal: abort.signal,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    requestHeader: call.requestHeader,
    get responseHeader() {
      call.responseHeader ??= new Headers();
      return call.responseHeader;
    },
    get responseTrailer() {
      call.responseTrailer ??= new Headers();
      return call.responseTrailer;
    },
    values: createContextValues(),
  };
  let error: ConnectError | undefined;
  try {
    for await (const out of entry.fn(request.message, ctx)) {
      if (call.isDone || isGone(res)) break;
      if (!call.send(out)) await writable(res);
    }
    // A deadline that ended the method's subscriptions ends the call with that error, as connect-es does.
    if (abort.signal.aborted && abort.signal.reason instanceof ConnectError) error = abort.signal.reason;
  } catch (err) {
    error = toConnectError(err);
  }
  abort.abort(error);
  call.finish(error);
}

/** Resolves once the response can take more, or is gone. */
function writable(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
