import type http from "node:http";
import type http2 from "node:http2";
import { EnvdError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** A request on either HTTP/1.1 or HTTP/2 (envd serves both on one port). */
export type HttpRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** A response on either HTTP/1.1 or HTTP/2. */
export type HttpResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What a plain HTTP route handler gets. */
export interface RouteContext {
  req: HttpRequest;
  res: HttpResponse;
  url: URL;
  log: Logger;
}

/** A plain HTTP route handler. Throwing an EnvdError renders it as `{"error":{"code","message"}}`. */
export type RouteHandler = (ctx: RouteContext) => Promise<void>;

/** Sends a JSON body with no caching (every envd answer is live state). */
export function sendJson(res: HttpResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Sends 204 No Content. */
export function sendNoContent(res: HttpResponse): void {
  res.writeHead(204, { "cache-control": "no-store" });
  res.end();
}

/** Renders any error as the HTTP error body; 4xx logs at warn, 5xx at error (without internals in the body). */
export function sendError(res: HttpResponse, err: unknown, log: Logger): void {
  const e = EnvdError.from(err);
  if (e.status >= 500) log.error({ err: e.cause ?? e, code: e.code }, "request failed");
  else log.warn({ code: e.code, msg: e.message }, "request rejected");
  if (res.headersSent) {
    // Mid-body failure: the only honest signal left is to cut the connection.
    res.destroy?.();
    return;
  }
  sendJson(res, e.status, e.toJson());
}

/** Reads a small request body (JSON endpoints), refusing more than `maxBytes`. */
export async function readBody(req: HttpRequest, maxBytes = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new EnvdError("invalid_argument", `request body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
