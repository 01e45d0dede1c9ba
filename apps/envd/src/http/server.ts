import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { Logger } from "../logger.ts";
import { type FastPath, LeanH1Connection } from "./lean-h1.ts";
import type { HttpRequest, HttpResponse } from "./respond.ts";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * envd's listener: one TCP port speaking HTTP/1.1 and HTTP/2 cleartext. Each connection's first bytes are
 * compared with the HTTP/2 preface and the socket is handed to the matching server; an HTTP/1 connection goes to
 * the fast path first, which hands it to Node's server at the first request it does not answer itself.
 */
export class EnvdServer {
  private readonly tcp: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.Http2Session>();

  /**
   * @param fast answers what it can of HTTP/1.1 requests before Node's server sees them (`lean-h1.ts`); without it,
   *   every HTTP/1 connection is Node's.
   */
  constructor(
    handler: (req: HttpRequest, res: HttpResponse) => void,
    log: Logger,
    private readonly fast?: FastPath,
  ) {
    // Uploads of many GiB under TCG can take minutes: no whole-request deadline, only one for headers.
    this.h1 = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, handler);
    this.h1.timeout = 0;
    this.h2 = http2.createServer({}, handler);
    this.h2.on("session", (s) => {
      this.sessions.add(s);
      s.once("close", () => this.sessions.delete(s));
    });
    for (const server of [this.h1, this.h2]) {
      server.on("clientError", (err: Error, socket: net.Socket) => {
        log.debug({ err: err.message }, "client error");
        socket.destroy();
      });
    }
    this.tcp = net.createServer((socket) => this.sniff(socket));
    this.tcp.on("error", (err) => log.error({ err }, "listener error"));
  }

  private sniff(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
    // A pause or snapshot restore leaves the guest with connections whose host end is gone, and nothing would ever
    // close an idle one (HTTP/2 sessions have no idle timeout). Keepalive probes after 60 s of silence reach QEMU's
    // user network, which answers a connection it does not know with a reset, so the socket is closed.
    socket.setKeepAlive(true, 60_000);
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && head.length < H2_PREFACE.length) return;
      socket.off("data", onData);
      if (isH2) {
        socket.pause();
        socket.unshift(head);
        this.h2.emit("connection", socket);
      } else if (this.fast) new LeanH1Connection(socket, head, this.fast, this.toH1);
      else this.toH1(socket, head);
    };
    socket.on("data", onData);
  }

  /** HTTP/1 connections given to Node's server so far (the others stayed on the fast path). */
  h1Connections = 0;

  /** Gives an HTTP/1 connection to Node's server, `unread` put back in front of what the socket reads next. */
  private readonly toH1 = (socket: net.Socket, unread: Buffer): void => {
    this.h1Connections += 1;
    socket.pause();
    if (unread.length > 0) socket.unshift(unread);
    // The HTTP/1 server would hand the socket's handle to its native parser ("consume"). After we have
    // read from the socket in JS, its pause() then no longer stops the handle, and a request body that
    // is not read at once (an upload waiting on mkdir) buffers without bound: measured ~1 GB for a
    // 1 GiB upload. Marking the handle consumed keeps parsing on the JS stream, whose backpressure works.
    const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
    if (handle) handle._consumed = true;
    this.h1.emit("connection", socket);
    // The HTTP/1 server only attaches a 'data' listener; the socket we paused must flow again so the
    // bytes we put back reach its parser.
    socket.resume();
  };

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once("error", reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off("error", reject);
        resolve((this.tcp.address() as net.AddressInfo).port);
      });
    });
  }

  /** Open client connections right now (for snapshot recovery). */
  openSockets(): net.Socket[] {
    return [...this.sockets];
  }

  /** Stops accepting, closes every connection, resolves when the listener is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.tcp.close(() => resolve());
      for (const s of this.sessions) s.destroy();
      for (const s of this.sockets) s.destroy();
    });
  }
}
