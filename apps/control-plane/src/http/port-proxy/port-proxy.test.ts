import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { createProxyTargets } from "../../services/proxy-targets.ts";
import { Harness, type TestUser } from "../../testing/harness.ts";
import { agentPath, parseProxyHost, stripProxyPrefix } from "./proxy-host.ts";

/** What the stand-in agent saw of one proxied request. */
interface Seen {
  method: string;
  url: string;
  authorization?: string;
  clientAuthorization?: string;
  host?: string;
  forwardedFor?: string;
  body: string;
}

/**
 * A stand-in for the agent's `/proxy/...` route on a real socket (the fake agent fleet only speaks RPC): reports
 * what it saw, echoes `/echo` bodies, redirects `/redirect` with the agent prefix, echoes bytes after an Upgrade.
 */
function startAgentProxy(seen: Seen[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const isEcho = req.url?.includes("/echo");
    if (isEcho) res.writeHead(200, { "content-type": "application/octet-stream" });
    req.on("data", (c: Buffer) => {
      chunks.push(c);
      if (isEcho) res.write(c);
    });
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        clientAuthorization: req.headers["x-wrenn-client-authorization"] as string | undefined,
        host: req.headers.host,
        forwardedFor: req.headers["x-forwarded-for"] as string | undefined,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      if (isEcho) return void res.end();
      const [, , id, port] = (req.url ?? "").split("/");
      if (req.url?.includes("/redirect")) {
        res.writeHead(301, { location: `/proxy/${id}/${port}/next/?a=1` });
        return void res.end();
      }
      res.writeHead(200, { "content-type": "application/json", "x-from": "agent" });
      res.end(JSON.stringify(s));
    });
  });
  server.on("upgrade", (req, socket) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body: "" });
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    socket.pipe(socket);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** One request to the listening control plane with a Host header, with a deadline. */
function request(
  port: number,
  host: string,
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
        headers: { host, ...opts.headers },
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

describe("port proxy host parsing", () => {
  it("matches {port}-{capsule id}.{domain} only", () => {
    assert.deepEqual(parseProxyHost("8888-cl-abc123.app.wrenn.dev"), { port: 8888, capsuleId: "cl-abc123" });
    assert.deepEqual(parseProxyHost("8000-CL-ABC.localhost:8000"), { port: 8000, capsuleId: "cl-abc" });
    for (const h of ["localhost:8000", "app.wrenn.dev", "8000-cl-abc", "8000-sb-abc.x", "x8000-cl-a.x", undefined]) {
      assert.equal(parseProxyHost(h), undefined, String(h));
    }
  });

  it("concatenates paths and strips the agent prefix from Location", () => {
    const p = { port: 80, capsuleId: "cl-a" };
    assert.equal(agentPath(p, "/"), "/proxy/cl-a/80/");
    assert.equal(agentPath(p, "/x/y/?q=1"), "/proxy/cl-a/80/x/y/?q=1");
    assert.equal(stripProxyPrefix("/proxy/cl-a/80/x/", p), "/x/");
    assert.equal(stripProxyPrefix("/proxy/cl-a/80", p), "/");
    assert.equal(stripProxyPrefix("/proxy/cl-a/80?x", p), "/?x");
    assert.equal(stripProxyPrefix("/proxy/cl-a/8080/x", p), "/proxy/cl-a/8080/x");
    assert.equal(stripProxyPrefix("https://elsewhere/x", p), "https://elsewhere/x");
  });
});

describe("port proxy (control plane side)", () => {
  let h: Harness;
  let admin: TestUser;
  let key: string;
  let agentKey: string;
  let hostId: string;
  let agentServer: http.Server;
  let agentAddress: string;
  let port: number;
  const seen: Seen[] = [];

  before(async () => {
    agentServer = await startAgentProxy(seen);
    agentAddress = `127.0.0.1:${(agentServer.address() as net.AddressInfo).port}`;
    h = await Harness.start();
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    const host = await h.onlineHost(admin, agentAddress);
    hostId = host.hostId;
    agentKey = host.creds.agent_key;
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    port = (h.app.server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await h.close();
    agentServer.closeAllConnections();
    await new Promise((r) => agentServer.close(r));
  });

  it("sends a proxy host's request to the capsule's agent with the agent key, the path appended as sent", async () => {
    const id = await h.capsule(key);
    const r = await request(port, `8000-${id}.localhost:8000`, "/dir/sub/?q=1", {
      headers: { authorization: "Basic dXNlcjpwdw==" },
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers["x-from"], "agent");
    const s = JSON.parse(r.body) as Seen;
    assert.equal(s.url, `/proxy/${id}/8000/dir/sub/?q=1`);
    assert.equal(s.authorization, `Bearer ${agentKey}`);
    assert.equal(s.clientAuthorization, "Basic dXNlcjpwdw==");
    assert.equal(s.host, `8000-${id}.localhost:8000`);
    assert.equal(s.forwardedFor, "127.0.0.1");
  });

  it("streams request and response bodies", async () => {
    const id = await h.capsule(key);
    const chunks = Array.from({ length: 5 }, (_, i) => `part-${i};`);
    const r = await request(port, `3000-${id}.example.com`, "/echo", { method: "POST", chunks });
    assert.equal(r.status, 200);
    assert.equal(r.body, chunks.join(""));
  });

  it("strips the agent's /proxy prefix from Location", async () => {
    const id = await h.capsule(key);
    const r = await request(port, `8000-${id}.localhost`, "/redirect");
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, "/next/?a=1");
  });

  it("leaves requests for other hosts to the API", async () => {
    const before = seen.length;
    const health = await request(port, "localhost:8000", "/health");
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, "ok");
    const notCapsule = await request(port, "8000-sb-abc.localhost", "/health");
    assert.equal(notCapsule.status, 200);
    assert.equal(seen.length, before);
  });

  it("answers 404 for an unknown capsule, 409 for a paused one and 400 for port 0", async () => {
    const unknown = await request(port, "8000-cl-doesnotexist.localhost", "/");
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).error.code, "not_found");
    const id = await h.capsule(key);
    assert.equal((await h.req("POST", `/v1/capsules/${id}/pause`, { key })).status, 200);
    const paused = await request(port, `8000-${id}.localhost`, "/");
    assert.equal(paused.status, 409);
    assert.equal(JSON.parse(paused.body).error.code, "invalid_state");
    const bad = await request(port, `0-${id}.localhost`, "/");
    assert.equal(bad.status, 400);
  });

  it("answers 503 when the capsule's host is not online", async () => {
    const id = await h.capsule(key);
    await h.db.db.updateTable("hosts").set({ status: "unreachable" }).where("id", "=", hostId).execute();
    try {
      const r = await request(port, `8000-${id}.localhost`, "/");
      assert.equal(r.status, 503);
      assert.equal(JSON.parse(r.body).error.code, "host_unavailable");
    } finally {
      await h.db.db.updateTable("hosts").set({ status: "online" }).where("id", "=", hostId).execute();
    }
  });

  it("answers 502 when the agent cannot be reached and looks the capsule up again next time", async () => {
    const id = await h.capsule(key);
    assert.equal((await request(port, `8000-${id}.localhost`, "/")).status, 200);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await h.db.db
      .updateTable("hosts")
      .set({ address: `127.0.0.1:${closedPort}` })
      .where("id", "=", hostId)
      .execute();
    try {
      // Still cached: the old address answers.
      assert.equal((await request(port, `8000-${id}.localhost`, "/")).status, 200);
      h.services.proxyTargets.evict(id);
      const r = await request(port, `8000-${id}.localhost`, "/");
      assert.equal(r.status, 502);
      assert.equal(JSON.parse(r.body).error.code, "agent_error");
    } finally {
      await h.db.db.updateTable("hosts").set({ address: agentAddress }).where("id", "=", hostId).execute();
    }
    // The 502 evicted the entry: the restored address is read again.
    assert.equal((await request(port, `8000-${id}.localhost`, "/")).status, 200);
  });

  it("splices a WebSocket Upgrade with the agent", async () => {
    const id = await h.capsule(key);
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    const received: Buffer[] = [];
    const done = new Promise<string>((resolve, reject) => {
      socket.on("data", (c: Buffer) => {
        received.push(c);
        const text = Buffer.concat(received).toString();
        if (text.includes("hello-ws")) resolve(text);
      });
      socket.on("error", reject);
      socket.on("close", () => reject(new Error(`closed early: ${Buffer.concat(received)}`)));
    });
    socket.write(
      `GET /ws/ HTTP/1.1\r\nHost: 8888-${id}.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    );
    setTimeout(() => socket.write("hello-ws"), 50);
    const text = await done;
    socket.destroy();
    assert.match(text, /^HTTP\/1.1 101 /);
    const upgrade = seen.findLast((s) => s.url.startsWith(`/proxy/${id}/8888/ws/`));
    assert.equal(upgrade?.authorization, `Bearer ${agentKey}`);
  });

  it("answers a proxied Upgrade for an unknown capsule with 404 on the socket", async () => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    let text = "";
    await new Promise<void>((resolve, reject) => {
      socket.on("data", (c: Buffer) => {
        text += c.toString();
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
      socket.write("GET / HTTP/1.1\r\nHost: 80-cl-nope.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    });
    assert.match(text, /^HTTP\/1.1 404 /);
  });
});

describe("proxy target cache", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(() => h.close());

  it("reuses a resolution for its TTL and reads the database again after it or an eviction", async () => {
    const admin = await h.user("admin");
    const key = await h.apiKey(admin);
    const { hostId } = await h.onlineHost(admin, "10.9.9.9:50051");
    const id = await h.capsule(key);
    let nowMs = 1_000_000;
    const targets = createProxyTargets(h.db.db, { ttlMs: 120_000, now: () => nowMs });
    assert.equal((await targets.resolve(id)).address, "10.9.9.9:50051");
    await h.db.db.updateTable("hosts").set({ address: "10.9.9.10:50051" }).where("id", "=", hostId).execute();
    nowMs += 119_000;
    assert.equal((await targets.resolve(id)).address, "10.9.9.9:50051");
    nowMs += 2_000;
    assert.equal((await targets.resolve(id)).address, "10.9.9.10:50051");
    await h.db.db.updateTable("hosts").set({ address: "10.9.9.11:50051" }).where("id", "=", hostId).execute();
    targets.evict(id);
    assert.equal((await targets.resolve(id)).address, "10.9.9.11:50051");
  });
});
