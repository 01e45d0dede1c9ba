/** A small promise wrapper over node:http for envd's plain HTTP endpoints (deadline on every request). */
import { type Agent, request } from "node:http";
import { AgentError } from "../errors.ts";

/** The answer of one HTTP request, body fully read. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Options of one request. */
export interface HttpRequestOptions {
  readonly method: "GET" | "POST" | "DELETE";
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly timeoutMs: number;
  readonly agent?: Agent;
  readonly signal?: AbortSignal;
}

/** Sends one request to `url` and reads the whole answer. Rejects on network errors and at the deadline. */
export function httpRequest(url: string, o: HttpRequestOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const signal = o.signal
      ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)])
      : AbortSignal.timeout(o.timeoutMs);
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    const req = request(
      url,
      {
        method: o.method,
        agent: o.agent,
        signal,
        headers: { ...o.headers, ...(body ? { "content-length": String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (err) =>
      reject(
        signal.aborted && !o.signal?.aborted
          ? new AgentError("timeout", `${o.method} ${url} did not answer within ${o.timeoutMs} ms`, { cause: err })
          : err,
      ),
    );
    req.end(body);
  });
}
