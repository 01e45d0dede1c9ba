/**
 * A Connect `Transport` whose unary calls are written straight onto an HTTP/2 stream: the request is the protobuf
 * bytes, the answer is read whole and decoded. Streaming calls go to the connect-es transport it wraps.
 *
 * Why: a connect-es unary call on Node builds a web `Headers` per direction, an abort controller and a deadline
 * signal, and pipes its body through async iterables. Measured between two Node processes on loopback after a 20 ms
 * idle wait, that is ~1.1 ms of a 4.7 ms round trip (3.6 ms with this client against the same connect-es server).
 * The bytes on the wire are Connect's own, so either end can be connect-es or anything else that speaks Connect.
 */
import http2 from "node:http2";
import { create, type DescMessage, type DescMethodUnary, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { codeFromHttpStatus, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { CONTENT_TYPE_JSON, CONTENT_TYPE_PROTO, joinChunks, methodPath, TRAILER_PREFIX } from "./wire.ts";

/** Options of the transport. */
export interface LeanUnaryTransportOptions {
  /** The HTTP/2 session the unary calls share with `streams` (same server). */
  readonly sessionManager: Http2SessionManager;
  /** Serves every streaming call: a connect-es transport to the same server over `sessionManager`. */
  readonly streams: Transport;
  /** Headers sent on every unary call (e.g. `authorization`); lower-case names. */
  readonly headers?: () => Readonly<Record<string, string>>;
}

const { NGHTTP2_CANCEL } = http2.constants;

/** Wraps `streams`, answering unary calls on the lean path. */
export function leanUnaryTransport(o: LeanUnaryTransportOptions): Transport {
  return {
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      o.streams.stream(method, signal, timeoutMs, header, input, contextValues),
    unary: (method, signal, timeoutMs, header, input) => unaryCall(o, method, signal, timeoutMs, header, input),
  };
}

async function unaryCall<I extends DescMessage, O extends DescMessage>(
  o: LeanUnaryTransportOptions,
  method: DescMethodUnary<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: ConstructorParameters<typeof Headers>[0],
  input: Parameters<Transport["unary"]>[4],
): Promise<UnaryResponse<I, O>> {
  if (signal?.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
  const message = isMessage(input, method.input) ? input : create(method.input, input as never);
  const body = toBinary(method.input, message);
  const headers: http2.OutgoingHttpHeaders = {
    "content-type": CONTENT_TYPE_PROTO,
    "connect-protocol-version": "1",
    ...o.headers?.(),
  };
  if (timeoutMs !== undefined && timeoutMs > 0) headers["connect-timeout-ms"] = String(Math.ceil(timeoutMs));
  if (header) for (const [name, value] of new Headers(header)) headers[name] = value;

  let stream: http2.ClientHttp2Stream;
  try {
    stream = await o.sessionManager.request("POST", methodPath(method), headers, {});
  } catch (err) {
    throw ConnectError.from(err, Code.Unavailable);
  }
  return new Promise<UnaryResponse<I, O>>((resolve, reject) => {
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: ConnectError | undefined, value?: UnaryResponse<I, O>) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (err) {
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
        reject(err);
      } else resolve(value as UnaryResponse<I, O>);
    };
    const onAbort = () => finish(ConnectError.from(signal?.reason, Code.Canceled));
    signal?.addEventListener("abort", onAbort, { once: true });
    // The caller's deadline also travels as `connect-timeout-ms`; this timer covers a server that ignores it.
    const timer =
      timeoutMs !== undefined && timeoutMs > 0
        ? setTimeout(() => finish(new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeoutMs)
        : undefined;

    stream.on("response", (h) => {
      status = Number(h[":status"]);
      responseHeaders = h;
    });
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      o.sessionManager.notifyResponseByteRead(stream);
    });
    stream.on("error", (err) => finish(ConnectError.from(err, Code.Unavailable)));
    // 'end' settles a complete answer before 'close'; a stream that closes first was reset or lost its session.
    stream.on("close", () => {
      if (!settled) {
        finish(
          new ConnectError(`the stream closed before its answer (HTTP/2 code ${stream.rstCode})`, Code.Unavailable),
        );
      }
    });
    stream.on("end", () => {
      const bytes = joinChunks(chunks);
      const contentType = String(responseHeaders["content-type"] ?? "");
      try {
        if (status === 200 && contentType === CONTENT_TYPE_PROTO) {
          const out = fromBinary(method.output, bytes);
          finish(undefined, response(method, responseHeaders, out));
        } else {
          const fallback = new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status));
          const err = contentType.startsWith(CONTENT_TYPE_JSON)
            ? errorFromJsonBytes(bytes, toHeaders(responseHeaders, false), fallback)
            : fallback;
          finish(err);
        }
      } catch (err) {
        finish(ConnectError.from(err, Code.Internal));
      }
    });
    stream.end(body);
  });
}

/** The answer, with its headers and trailers converted only if someone reads them. */
function response<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  raw: http2.IncomingHttpHeaders,
  message: UnaryResponse<I, O>["message"],
): UnaryResponse<I, O> {
  let header: Headers | undefined;
  let trailer: Headers | undefined;
  return {
    stream: false,
    service: method.parent,
    method,
    message,
    get header() {
      header ??= toHeaders(raw, false);
      return header;
    },
    get trailer() {
      trailer ??= toHeaders(raw, true);
      return trailer;
    },
  };
}

/** Node's header object as web `Headers`: the plain headers, or the `trailer-` ones without their prefix. */
function toHeaders(raw: http2.IncomingHttpHeaders, trailers: boolean): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(":") || value === undefined) continue;
    const isTrailer = name.startsWith(TRAILER_PREFIX);
    if (isTrailer !== trailers) continue;
    const key = trailers ? name.slice(TRAILER_PREFIX.length) : name;
    for (const v of Array.isArray(value) ? value : [value]) out.append(key, v);
  }
  return out;
}
