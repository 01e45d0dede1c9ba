/**
 * What both ends of a Connect unary call agree on (connectrpc.com/docs/protocol, "Unary-Request" and
 * "Unary-Response"): the path of a method, the binary content type, and how an error travels.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";

/** A request and its response, either HTTP version (Node's compatibility API for HTTP/2). */
export type Request = IncomingMessage | Http2ServerRequest;
export type Response = ServerResponse | Http2ServerResponse;

/** `POST /<package.Service>/<Method>`. */
export const methodPath = (method: DescMethod): string => `/${method.parent.typeName}/${method.name}`;

/** The only content type the lean path speaks; JSON and anything compressed go through connect-es itself. */
export const CONTENT_TYPE_PROTO = "application/proto";

/** Errors are JSON bodies (`{"code","message","details"}`) under a non-200 status. */
export const CONTENT_TYPE_JSON = "application/json";

/** Response headers named `trailer-<name>` carry the unary call's trailers. */
export const TRAILER_PREFIX = "trailer-";

/** A body read in chunks, as one buffer (without a copy when it came in one piece, as small messages do). */
export const joinChunks = (chunks: Buffer[]): Buffer =>
  chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);

/** The request's headers as web `Headers` (HTTP/2 pseudo-headers left out). */
export function requestHeaders(req: Request): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  return out;
}

/** True once nothing more can be written: answered, or the connection or HTTP/2 stream is gone. */
export function isGone(res: Response): boolean {
  if (res.writableEnded) return true;
  return "stream" in res ? res.stream.destroyed : res.destroyed;
}

/**
 * The entry of `calls` a request is for, when the lean path can answer it: `POST` to a known method's path with
 * `contentType`, and no compression in `encodingHeader`. Undefined leaves the request to connect-es.
 */
export function matchCall<T>(
  calls: ReadonlyMap<string, T>,
  req: Request,
  contentType: string,
  encodingHeader: string,
): T | undefined {
  if (req.method !== "POST") return undefined;
  const entry = calls.get(req.url ?? "");
  if (entry === undefined || req.headers["content-type"] !== contentType) return undefined;
  const encoding = req.headers[encodingHeader];
  return encoding === undefined || encoding === "identity" ? entry : undefined;
}
