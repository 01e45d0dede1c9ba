/** Serves HostAgentService with Connect over h2c on AGENT_LISTEN_ADDR. */
import { createServer, type Http2Server } from "node:http2";
import type { Interceptor, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { hostagent } from "@wrenn/protocol";
import { parseListenAddr } from "../config.ts";
import { bearerAuth } from "./auth.ts";

/** Options of the server. */
export interface RpcServerOptions {
  readonly listenAddr: string;
  readonly agentKey: string | undefined;
  readonly service: ServiceImpl<typeof hostagent.HostAgentService>;
  readonly interceptors?: Interceptor[];
  /** Plain HTTP requests that are not RPCs (e.g. GET /metrics); return true when handled. */
  readonly fallback?: (
    req: import("node:http2").Http2ServerRequest,
    res: import("node:http2").Http2ServerResponse,
  ) => boolean;
}

/** A listening RPC server. */
export interface RpcServer {
  readonly port: number;
  /** Stops accepting and closes open sessions after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Starts listening; resolves with the bound port. */
export async function startRpcServer(o: RpcServerOptions): Promise<RpcServer> {
  const handler = connectNodeAdapter({
    routes: (router) => router.service(hostagent.HostAgentService, o.service),
    interceptors: [bearerAuth(o.agentKey), ...(o.interceptors ?? [])],
    fallback: (req, res) => {
      if (o.fallback?.(req as never, res as never)) return;
      res.writeHead(404);
      res.end();
    },
  });
  const server: Http2Server = createServer(handler);
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  const { host, port } = parseListenAddr(o.listenAddr);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host || undefined, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.close();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, graceMs).unref();
      }),
  };
}
