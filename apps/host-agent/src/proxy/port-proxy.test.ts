import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import type { ServiceImpl } from "@connectrpc/connect";
import type { hostagent } from "@wrenn/protocol";
import type { Capsule } from "../capsules/capsule.ts";
import { errors } from "../errors.ts";
import { createLogger } from "../log.ts";
import { type RpcServer, startRpcServer } from "../rpc/server.ts";
import { freeLoopbackPort } from "../storage/ports.ts";
import { createPortProxy } from "./port-proxy.ts";

const KEY = "proxy-test-key";
const AUTH = { authorization: `Bearer ${KEY}` };

/** A stand-in for a server in the guest: reports what it saw, echoes bodies, and echoes bytes after an Upgrade. */
function startGuestServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith("/echo")) {
      res.writeHead(200, { "content-type": "application/octet-stream", "x-guest": "yes" });
      req.pipe(res);
      return;
    }
    res.writeHead(200, { "content-type": "application/json", connection: "keep-alive" });
    res.end(JSON.stringify({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null }));
  });
  server.on("upgrade", (req, socket, head) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`);
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** One HTTP/1.1 request to the agent with a deadline; the body may be streamed in chunks. */
function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; chunks?: string[] } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: opts.method ?? "GET",
        headers: opts.headers,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    const chunks = opts.chunks ?? [];
    const next = (i: number) => {
      if (i >= chunks.length) return void req.end();
      req.write(chunks[i]);
      setTimeout(() => next(i + 1), 20);
    };
    next(0);
  });
}

describe("port proxy (agent side)", () => {
  let guest: http.Server;
  let guestPort = 0;
  let closedPort = 0;
  let server: RpcServer;
  const touched: string[] = [];

  before(async () => {
    guest = await startGuestServer();
    guestPort = (guest.address() as net.AddressInfo).port;
    closedPort = await freeLoopbackPort();
    const forwards = new Map([
      [8000, guestPort],
      [9000, closedPort],
    ]);
    const proxy = createPortProxy({
      agentKey: KEY,
      log: createLogger("silent"),
      getCapsule: (id, touch) => {
        if (id === "cl-paused") throw errors.invalidState(id, "paused", "use");
        if (id !== "cl-running") throw errors.capsuleNotFound(id);
        if (touch) touched.push(id);
        return {
          vm: {
            forwardPort: async (p: number) => forwards.get(p) ?? closedPort,
          },
        } as unknown as Capsule;
      },
    });
    server = await startRpcServer({
      listenAddr: "127.0.0.1:0",
      agentKey: KEY,
      service: {} as ServiceImpl<typeof hostagent.HostAgentService>,
      fallback: (req, res) => proxy.handleRequest(req as never, res as never),
      upgrade: (req, socket, head) => proxy.handleUpgrade(req, socket, head),
    });
  });
  after(async () => {
    await server.close(100);
    guest.closeAllConnections();
    await new Promise((r) => guest.close(r));
  });

  it("forwards to the guest port with the path and query as sent, trailing slash included", async () => {
    const r = await request(server.port, "/proxy/cl-running/8000/dir/sub/?q=1", { headers: AUTH });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { method: "GET", url: "/dir/sub/?q=1", authorization: null });
    assert.equal(r.headers.connection, "close", "hop-by-hop headers of the guest are not passed on");
    const root = await request(server.port, "/proxy/cl-running/8000", { headers: AUTH });
    assert.equal(JSON.parse(root.body).url, "/");
    assert.ok(touched.includes("cl-running"), "proxy traffic counts as activity");
  });

  it("refuses requests without the agent key and hands the user's own Authorization to the guest", async () => {
    const anonymous = await request(server.port, "/proxy/cl-running/8000/");
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.body).error.code, "unauthorized");
    const r = await request(server.port, "/proxy/cl-running/8000/", {
      headers: { ...AUTH, "x-wrenn-client-authorization": "Basic dXNlcjpwdw==" },
    });
    assert.equal(JSON.parse(r.body).authorization, "Basic dXNlcjpwdw==");
  });

  it("streams a request body to the guest and its answer back", async () => {
    const chunks = Array.from({ length: 5 }, (_, i) => `chunk-${i};`);
    const r = await request(server.port, "/proxy/cl-running/8000/echo", { method: "POST", headers: AUTH, chunks });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-guest"], "yes");
    assert.equal(r.body, chunks.join(""));
  });

  it("answers 404 for an unknown capsule, 409 for a paused one and 400 for a bad port", async () => {
    const unknown = await request(server.port, "/proxy/cl-nope/8000/", { headers: AUTH });
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).error.code, "not_found");
    const paused = await request(server.port, "/proxy/cl-paused/8000/", { headers: AUTH });
    assert.equal(paused.status, 409);
    assert.equal(JSON.parse(paused.body).error.code, "invalid_state");
    assert.equal((await request(server.port, "/proxy/cl-running/70000/", { headers: AUTH })).status, 400);
  });

  it("answers 502 naming the port when nothing listens there", async () => {
    const r = await request(server.port, "/proxy/cl-running/9000/", { headers: AUTH });
    assert.equal(r.status, 502);
    const body = JSON.parse(r.body);
    assert.equal(body.error.code, "agent_error");
    assert.match(body.error.message, /nothing listens on port 9000 in capsule cl-running/);
  });

  it("splices an Upgrade request with the guest and echoes bytes both ways", async () => {
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    const received: Buffer[] = [];
    const done = new Promise<string>((resolve, reject) => {
      socket.on("data", (c: Buffer) => {
        received.push(c);
        const text = Buffer.concat(received).toString();
        if (text.includes("ping-pong")) resolve(text);
      });
      socket.on("error", reject);
      socket.on("close", () => reject(new Error(`closed early: ${Buffer.concat(received)}`)));
    });
    socket.write(
      `GET /proxy/cl-running/8000/ws HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
        "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nping-",
    );
    setTimeout(() => socket.write("pong"), 50);
    const text = await done;
    socket.destroy();
    assert.match(text, /^HTTP\/1.1 101 Switching Protocols/);
    assert.ok(text.endsWith("ping-pong"));
  });

  it("answers an Upgrade for a paused capsule with 409 on the socket", async () => {
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    let text = "";
    const closed = new Promise<void>((resolve, reject) => {
      socket.on("data", (c: Buffer) => {
        text += c.toString();
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    socket.write(
      `GET /proxy/cl-paused/8000/ws HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
        "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    await closed;
    assert.match(text, /^HTTP\/1.1 409 Conflict/);
    assert.match(text, /"code":"invalid_state"/);
  });
});
