/**
 * What both ends of a Connect unary call agree on (connectrpc.com/docs/protocol, "Unary-Request" and
 * "Unary-Response"): the path of a method, the binary content type, and how an error travels.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A request whose head and whole body were read before it reached a handler: what a server that frames HTTP/1.1
 * itself (envd's fast path) hands over instead of Node's stream.
 */
export class BufferedRequest {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly body: Buffer,
  ) {}
}

/** The part of Node's `ServerResponse` the lean handlers use, for a response written by such a server. */
export interface PlainResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  /** False asks the writer to wait for "drain". */
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  /** "close": the response is over (answered, or the connection went away); "drain": it can take more. */
  once(event: "close" | "drain", listener: () => void): unknown;
  on(event: "close" | "drain", listener: () => void): unknown;
  off(event: "close" | "drain", listener: () => void): unknown;
}

/** A request and its response, either HTTP version (Node's compatibility API for HTTP/2), or read in advance. */
export type Request = IncomingMessage | Http2ServerRequest | BufferedRequest;
export type Response = ServerResponse | Http2ServerResponse | PlainResponse;

/** Answers a request on a lean path and returns true, or returns false and touches nothing. */
export type LeanHandler = (req: Request, res: Response) => boolean;

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

/**
 * The request's headers as web `Headers` (HTTP/2 pseudo-headers left out), read straight from Node's parsed headers.
 * `get` and `has` cost a property lookup; anything else builds a real `Headers` once and answers from it. Why: a
 * method usually reads one or two headers, and filling undici's `Headers` validates every name and value in
 * JavaScript (~3% of envd's CPU on a streamed command under the interpreter).
 */
export function requestHeaders(req: Request): Headers {
  return new NodeRequestHeaders(req.headers);
}

class NodeRequestHeaders implements Headers {
  private built: Headers | undefined;
  constructor(private readonly raw: Request["headers"]) {}

  get(name: string): string | null {
    if (this.built) return this.built.get(name);
    const key = name.toLowerCase();
    if (key.startsWith(":")) return null;
    const v = this.raw[key];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(", ") : String(v);
  }
  has(name: string): boolean {
    return this.get(name) !== null;
  }
  private full(): Headers {
    if (!this.built) {
      const out = new Headers();
      for (const [name, value] of Object.entries(this.raw)) {
        if (name.startsWith(":") || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) out.append(name, String(v));
      }
      this.built = out;
    }
    return this.built;
  }
  append(name: string, value: string): void {
    this.full().append(name, value);
  }
  set(name: string, value: string): void {
    this.full().set(name, value);
  }
  delete(name: string): void {
    this.full().delete(name);
  }
  getSetCookie(): string[] {
    return this.full().getSetCookie();
  }
  forEach(cb: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [k, v] of this.full()) cb.call(thisArg, v, k, this);
  }
  entries(): ReturnType<Headers["entries"]> {
    return this.full().entries();
  }
  keys(): ReturnType<Headers["keys"]> {
    return this.full().keys();
  }
  values(): ReturnType<Headers["keys"]> {
    return this.full().values();
  }
  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.full()[Symbol.iterator]();
  }
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

/** The whole request body; refused with ResourceExhausted past `limit`, Canceled if the request breaks off. */
export function readBody(req: Request, limit: number): Promise<Buffer> {
  if (req instanceof BufferedRequest) {
    const size = req.body.length;
    return size > limit ? Promise.reject(tooLarge(size, limit)) : Promise.resolve(req.body);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("error", () => reject(new ConnectError("the request broke off", Code.Canceled)));
    req.on("end", () => {
      if (size > limit) reject(tooLarge(size, limit));
      else resolve(joinChunks(chunks));
    });
  });
}

const tooLarge = (size: number, limit: number) =>
  new ConnectError(`message size ${size} is larger than the limit ${limit}`, Code.ResourceExhausted);

/**
 * The error a call ends with, as the caller sees it (as connect-es does): a ConnectError as it is, anything else as
 * "internal error", its message hidden.
 */
export function toConnectError(err: unknown): ConnectError {
  return err instanceof ConnectError
    ? err
    : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}
