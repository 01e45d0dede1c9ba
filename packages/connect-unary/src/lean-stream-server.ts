/**
 * Serves a service's server-streaming methods in Connect's binary streaming protocol (connectrpc.com/docs/protocol,
 * "Streaming-Request" and "Streaming-Response") with little per-call and per-message work: one enveloped request
 * message in; enveloped answers out as the method yields them, each written as soon as it exists and the next one
 * only once the connection took it (backpressure); then the end-of-stream message with the error or the trailers.
 * JSON, compressed calls and everything else are left to connect-es, as in `lean-unary-server.ts`.
 *
 * Why: envd streams every command's output this way, and under TCG each step of connect-es's async-iterable
 * pipeline (split, parse, serialize and join envelopes, per message) is emulated guest work.
 */
import type { ServerResponse } from "node:http";
import type { DescMethod, DescMethodServerStreaming, DescService } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { endStreamFlag, endStreamToJson, parseTimeout } from "@connectrpc/connect/protocol-connect";
import {
  isGone,
  type LeanHandler,
  matchCall,
  methodPath,
  type Request,
  type Response,
  readBody,
  requestHeaders,
} from "./wire.ts";

/** The streaming content type the lean path speaks. */
const CONTENT_TYPE_STREAM_PROTO = "application/connect+proto";

/** Options of the handler. */
export interface LeanStreamHandlerOptions<S extends DescService> {
  readonly service: S;
  /** Its server-streaming methods must be async generators (as connect-es calls them). */
  readonly impl: ServiceImpl<S>;
  /** Largest request body accepted; connect-es's default (4 GiB - 1) unless set. */
  readonly readMaxBytes?: number;
  /**
   * Hand-written encoders of hot methods' answers, by the method's local name: each gets what the method yielded and
   * must return exactly the bytes `toBinary(create(output, message))` would. Why: protobuf-es encodes by reflection,
   * which for envd's process events cost ~7% of its CPU per streamed command under the interpreter.
   */
  readonly encoders?: Readonly<Record<string, (message: never) => Uint8Array>>;
}

type StreamFn = (message: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
type Encode = (message: unknown) => Uint8Array;

/** The handler of `service`'s server-streaming methods (no interceptors: use connect-es where they are needed). */
export function leanServerStreamHandler<S extends DescService>(o: LeanStreamHandlerOptions<S>): LeanHandler {
  const readMaxBytes = o.readMaxBytes ?? 0xffffffff;
  const calls = new Map<string, { method: DescMethodServerStreaming; fn: StreamFn; encode: Encode }>();
  for (const m of o.service.methods) {
    if (m.methodKind !== "server_streaming") continue;
    const fn = (o.impl as Record<string, unknown>)[m.localName];
    if (typeof fn !== "function") continue;
    const method = m as DescMethodServerStreaming;
    const encode =
      (o.encoders?.[m.localName] as Encode | undefined) ??
      ((out: unknown) => toBinary(method.output, create(method.output, out as never)));
    calls.set(methodPath(m), { method, fn: fn.bind(o.impl) as StreamFn, encode });
  }
  return (req, res) => {
    const entry = matchCall(calls, req, CONTENT_TYPE_STREAM_PROTO, "connect-content-encoding");
    if (!entry) return false;
    void serveStream(entry.method, entry.fn, entry.encode, req, res, readMaxBytes);
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

/** The request's single message, or why there is none. */
function requestMessage(method: DescMethod & { input: DescMethodServerStreaming["input"] }, body: Buffer) {
  if (body.length < 5) throw new ConnectError("protocol error: missing request message", Code.InvalidArgument);
  if ((body[0] ?? 0) !== 0) throw new ConnectError("protocol error: unexpected envelope flags", Code.InvalidArgument);
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) {
    throw new ConnectError("protocol error: expected exactly one request message", Code.InvalidArgument);
  }
  try {
    return fromBinary(method.input, body.subarray(5));
  } catch (err) {
    throw new ConnectError(`cannot decode the request: ${String(err)}`, Code.InvalidArgument);
  }
}

/** The end of a stream that ended without error or trailers (`{}`), the usual one. */
const PLAIN_END = envelope(endStreamFlag, Buffer.from("{}"));

async function serveStream(
  method: DescMethodServerStreaming,
  fn: StreamFn,
  encode: Encode,
  req: Request,
  res: Response,
  readMaxBytes: number,
): Promise<void> {
  const abort = new AbortController();
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  // A caller that hangs up cancels the method: its signal aborts, which ends the subscriptions it iterates.
  res.once("close", () => {
    if (timer) clearTimeout(timer);
    if (!finished) abort.abort(new ConnectError("the caller went away", Code.Canceled));
  });
  // Made when a method first touches them: most never do, and each `Headers` costs JavaScript to build.
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let headSent = false;
  const sendHead = () => {
    if (headSent) return;
    headSent = true;
    const head: Record<string, string> = {};
    if (responseHeader) for (const [k, v] of responseHeader) head[k] = v;
    head["content-type"] = CONTENT_TYPE_STREAM_PROTO;
    (res as ServerResponse).writeHead(200, head);
  };

  let error: ConnectError | undefined;
  try {
    const timeout = parseTimeout((req.headers["connect-timeout-ms"] as string | undefined) ?? null, 2 ** 31 - 1);
    if (timeout.error) throw timeout.error;
    if (timeout.timeoutMs !== undefined) {
      timer = setTimeout(
        () => abort.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)),
        timeout.timeoutMs,
      );
    }
    const body = await readBody(req, readMaxBytes);
    const message = requestMessage(method, body);
    const deadline = timeout.timeoutMs === undefined ? undefined : Date.now() + timeout.timeoutMs;
    const ctx: HandlerContext = {
      service: method.parent,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      url: req.url ?? "",
      signal: abort.signal,
      timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
      requestHeader: requestHeaders(req),
      get responseHeader() {
        responseHeader ??= new Headers();
        return responseHeader;
      },
      get responseTrailer() {
        responseTrailer ??= new Headers();
        return responseTrailer;
      },
      values: createContextValues(),
    };
    for await (const out of fn(message, ctx)) {
      if (isGone(res)) break;
      sendHead();
      const chunk = envelope(0, encode(out));
      if (!(res as ServerResponse).write(chunk)) await writable(res);
    }
    // A deadline that ended the method's subscriptions ends the call with that error, as connect-es does.
    if (abort.signal.aborted && abort.signal.reason instanceof ConnectError) error = abort.signal.reason;
  } catch (err) {
    error =
      err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
  }
  finished = true;
  if (timer) clearTimeout(timer);
  abort.abort(error);
  if (isGone(res)) return;
  sendHead();
  if (!error && !responseTrailer?.keys().next().value) {
    res.end(PLAIN_END);
    return;
  }
  const end = JSON.stringify(endStreamToJson(responseTrailer ?? new Headers(), error, undefined));
  res.end(envelope(endStreamFlag, Buffer.from(end)));
}
