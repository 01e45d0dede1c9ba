import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a TestReceiver got. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A local HTTP server on 127.0.0.1 that plays a chat service or a webhook endpoint in tests: it records every
 * request and answers with `respond` (200 by default), so a test can make a delivery fail, redirect or hang.
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (req: ReceivedRequest) => { status: number; headers?: Record<string, string>; delayMs?: number } = () => ({
    status: 200,
  });
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<TestReceiver> {
    const server = createServer();
    const r = new TestReceiver(server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const got = {
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        r.requests.push(got);
        for (const w of r.waiters.splice(0)) w();
        const answer = r.respond(got);
        const send = () => res.writeHead(answer.status, answer.headers).end("{}");
        if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
        else send();
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    return r;
  }

  /** `http://127.0.0.1:<port>` plus `path`. */
  url(path = ""): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Waits (at most `timeoutMs`) until `n` requests have arrived. */
  async waitFor(n: number, timeoutMs = 5_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} requests, got ${this.requests.length}`);
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, left);
        this.waiters.push(() => {
          clearTimeout(t);
          ok();
        });
      });
    }
    return this.requests;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}
