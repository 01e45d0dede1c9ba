/**
 * The HTTP and WebSocket plumbing shared by every SDK object: base URL, credentials, deadlines,
 * cancellation and error mapping live here and nowhere else.
 */
import WebSocket from "ws";
import type { ResolvedConfig } from "./config.ts";
import { AbortError, ConnectionError, errorFromBody, TimeoutError, WrennError } from "./errors.ts";

/** Default deadline of one HTTP request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Deadline for slow lifecycle calls (pause, resume, snapshot). */
export const LONG_REQUEST_TIMEOUT_MS = 300_000;

/** One HTTP request. */
export interface RequestOptions {
  method?: string;
  /** JSON body; sets the content type. */
  json?: unknown;
  /** Any other body (FormData, stream, bytes). */
  body?: RequestInit["body"];
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Deadline for the whole request including the body; 0 disables it. */
  timeoutMs?: number;
}

/** What objects of the SDK use to talk to the control plane. */
export interface Transport {
  readonly baseUrl: string;
  /** Sends a request and returns the response when its status is 2xx; otherwise throws the mapped error. */
  request(path: string, options?: RequestOptions): Promise<Response>;
  /** `request` and parse the JSON answer (204 gives `undefined`). */
  json<T>(path: string, options?: RequestOptions): Promise<T>;
  /**
   * Starts a WebSocket to `path` with the credentials in its upgrade headers. Returned at once so the caller can
   * attach its message handler before any message can arrive; then await {@link Transport.opened}.
   */
  socket(path: string): WebSocket;
  /** Resolves once `ws` is open; rejects with the mapped error when the upgrade is refused or fails. */
  opened(ws: WebSocket, signal?: AbortSignal): Promise<void>;
}

/** Creates the transport for one set of resolved settings. */
export function createTransport(config: ResolvedConfig): Transport {
  const authHeaders = (): Record<string, string> => {
    const headers: Record<string, string> = { "user-agent": "wrenn-typescript/0.1.0" };
    if (config.apiKey) headers["x-api-key"] = config.apiKey;
    if (config.token) headers.authorization = `Bearer ${config.token}`;
    return headers;
  };

  const urlFor = (path: string, query?: RequestOptions["query"]): string => {
    const url = new URL(config.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  };

  async function request(path: string, options: RequestOptions = {}): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    const headers: Record<string, string> = { ...authHeaders(), ...options.headers };
    let body = options.body;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const method = options.method ?? (body === undefined ? "GET" : "POST");
    let res: Response;
    try {
      const init: RequestInit & { duplex?: "half" } = { method, headers, body, signal };
      if (isStreamBody(body)) init.duplex = "half";
      res = await fetch(urlFor(path, options.query), init);
    } catch (err) {
      throw mapFetchError(err, config.baseUrl, options.signal, timeout, timeoutMs);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the message
    }
    throw errorFromBody(res.status, parsed);
  }

  async function json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const res = await request(path, options);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  function socket(path: string): WebSocket {
    const url = urlFor(path).replace(/^http/, "ws");
    const ws = new WebSocket(url, { headers: authHeaders(), handshakeTimeout: 30_000 });
    // Errors reach the consumer's own listeners; this one only keeps an unlistened error from crashing the process.
    ws.on("error", () => {});
    // Keep the refusal body: `opened()` turns it into the API's error.
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep text
        }
        ws.emit("error", errorFromBody(res.statusCode ?? 0, parsed));
        ws.terminate();
      });
    });
    return ws;
  }

  function opened(ws: WebSocket, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (ws.readyState === ws.OPEN) return resolve();
      if (signal?.aborted) {
        ws.terminate();
        return reject(new AbortError("the operation was aborted"));
      }
      const cleanup = () => {
        signal?.removeEventListener("abort", onAbort);
        ws.off("open", onOpen);
        ws.off("error", onError);
      };
      const onAbort = () => {
        cleanup();
        ws.terminate();
        reject(new AbortError("the operation was aborted"));
      };
      const onOpen = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error) => {
        cleanup();
        reject(mapFetchError(err, config.baseUrl));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      ws.once("open", onOpen);
      ws.once("error", onError);
    });
  }

  return { baseUrl: config.baseUrl, request, json, socket, opened };
}

function isStreamBody(body: unknown): boolean {
  return body instanceof ReadableStream || (typeof body === "object" && body !== null && Symbol.asyncIterator in body);
}

function mapFetchError(
  err: unknown,
  baseUrl: string,
  userSignal?: AbortSignal,
  timeout?: AbortSignal,
  timeoutMs?: number,
): WrennError {
  if (err instanceof WrennError) return err;
  if (userSignal?.aborted) return new AbortError("the operation was aborted", { cause: userSignal.reason });
  if (timeout?.aborted) return new TimeoutError(`the request did not finish within ${timeoutMs} ms`, { cause: err });
  // fetch rejects with TypeError("fetch failed") and the socket error as its cause; ws emits the socket error.
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const isNetwork = (err instanceof TypeError && err.message === "fetch failed") || "code" in (err as object);
  if (isNetwork) {
    const why = cause?.code ?? cause?.message ?? (err as { code?: string }).code ?? (err as Error).message;
    return new ConnectionError(
      `cannot reach the control plane at ${baseUrl} (${why}): start it with \`wrenn up\` or set WRENN_BASE_URL`,
      { cause: err },
    );
  }
  return WrennError.from(err);
}
