/**
 * Serves HostAgentService with Connect on AGENT_LISTEN_ADDR. One TCP port speaks both HTTP/2 cleartext (the
 * control plane's RPCs) and HTTP/1.1 (Prometheus scraping GET /metrics, curl, Connect unary over HTTP/1.1): each
 * connection's first bytes are compared with the HTTP/2 preface and the socket goes to the matching server, the
 * way envd's listener does (apps/envd/src/http/server.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { Interceptor, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { leanUnaryHandler } from "@wrenn/connect-unary";
import { hostagent } from "@wrenn/protocol";
import { parseListenAddr } from "../config.ts";
import { bearerAuth } from "./auth.ts";

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Options of the server. */
export interface RpcServerOptions {
  readonly listenAddr: string;
  readonly agentKey: string | undefined;
  readonly service: ServiceImpl<typeof hostagent.HostAgentService>;
  readonly interceptors?: Interceptor[];
  /** Plain HTTP requests that are not RPCs (e.g. GET /metrics), either HTTP version; return true when handled. */
  readonly fallback?: (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => boolean;
  /** HTTP/1.1 Upgrade requests (the port proxy's WebSockets); return true when handled, else the socket is closed. */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

/** A listening RPC server. */
export interface RpcServer {
  readonly port: number;
  /** Stops accepting and closes open connections after `graceMs` (default 2000). */
  close(graceMs?: number): Promise<void>;
}

/** Starts listening; resolves with the bound port. */
export async function startRpcServer(o: RpcServerOptions): Promise<RpcServer> {
  const interceptors = [bearerAuth(o.agentKey), ...(o.interceptors ?? [])];
  const connect = connectNodeAdapter({
    // Never compress answers: the control plane sits on a fast network, and gzipping exec output and file chunks
    // (Connect's default from 1 KiB on) costs more CPU on both ends than it saves in transfer.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    routes: (router) => router.service(hostagent.HostAgentService, o.service),
    interceptors,
    fallback: (req, res) => {
      if (o.fallback?.(req as never, res as never)) return;
      res.writeHead(404);
      res.end();
    },
  });
  // Binary unary calls (every exec, process list, file read, lifecycle call of the control plane) skip connect-es's
  // per-call machinery; everything else is connect-es's (see packages/connect-unary).
  const lean = leanUnaryHandler({ service: hostagent.HostAgentService, impl: o.service, interceptors });
  const handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    if (!lean(req, res)) connect(req as never, res as never);
  };
  // Streams (exec output, uploads) may run for minutes: no whole-request deadline on HTTP/1.1. Idle keep-alive
  // connections (the control plane's port proxy pool) live 65 s, longer than that pool keeps them (60 s).
  const h1 = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, handler);
  const h2 = http2.createServer({}, handler);
  h1.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!o.upgrade?.(req, socket, head)) socket.destroy();
  });
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  for (const server of [h1, h2]) server.on("clientError", (_err: Error, socket: net.Socket) => socket.destroy());
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    sniff(socket, (isH2) => (isH2 ? h2 : h1).emit("connection", socket));
  });
  const { host, port } = parseListenAddr(o.listenAddr);
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host || undefined, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const address = tcp.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const s of sessions) s.close();
        h1.closeIdleConnections();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        }, graceMs).unref();
      }),
  };
}

/** How long a new connection may stay silent before it is dropped (the servers' own timeouts start after). */
const SNIFF_TIMEOUT_MS = 30_000;

/**
 * Reads a connection's first bytes until they either are the HTTP/2 preface or cannot be, puts them back and calls
 * `route`.
 */
function sniff(socket: net.Socket, route: (isH2: boolean) => void): void {
  let head: Buffer = Buffer.alloc(0);
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const n = Math.min(head.length, H2_PREFACE.length);
    const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isH2 && head.length < H2_PREFACE.length) return;
    socket.off("data", onData);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(head);
    if (!isH2) {
      // Once JS has read from the socket, the HTTP/1 parser consuming the native handle would bypass the stream's
      // pause(), and an unread request body would buffer without bound; keep parsing on the JS stream (envd does
      // the same, measured there with a 1 GiB upload).
      const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
      if (handle) handle._consumed = true;
    }
    route(isH2);
    // The HTTP/1 server only attaches a 'data' listener: the paused socket must flow again. HTTP/2 drains it itself.
    if (!isH2) socket.resume();
  };
  socket.on("data", onData);
}
