import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { hostagent } from "@wrenn/protocol";
import { type RpcServer, startRpcServer } from "./server.ts";

const KEY = "test-agent-key";

/** GET over HTTP/1.1 with a deadline. */
function get1(port: number, path: string): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, version: res.httpVersion }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** GET over HTTP/2 cleartext (prior knowledge) with a deadline. */
function get2(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error("timeout"));
    }, 10_000);
    session.on("error", reject);
    const stream = session.request({ ":path": path, ":method": "GET" });
    let status = 0;
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.on("data", (c: string) => {
      body += c;
    });
    stream.on("end", () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, body });
    });
    stream.on("error", reject);
  });
}

describe("startRpcServer", () => {
  let server: RpcServer;
  before(async () => {
    server = await startRpcServer({
      listenAddr: "127.0.0.1:0",
      agentKey: KEY,
      // Only GetHostInfo: the router answers Unimplemented for the rest, which is what the test needs.
      service: { getHostInfo: () => ({ agentVersion: "test-version" }) } as unknown as ServiceImpl<
        typeof hostagent.HostAgentService
      >,
      fallback: (req, res) => {
        if (req.url !== "/metrics") return false;
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("wrenn_up 1\n");
        return true;
      },
    });
  });
  after(() => server.close(100));

  it("serves GET /metrics to an HTTP/1.1 client (Prometheus)", async () => {
    const r = await get1(server.port, "/metrics");
    assert.equal(r.status, 200);
    assert.equal(r.version, "1.1");
    assert.equal(r.body, "wrenn_up 1\n");
  });

  it("serves GET /metrics over h2c on the same port", async () => {
    const r = await get2(server.port, "/metrics");
    assert.equal(r.status, 200);
    assert.equal(r.body, "wrenn_up 1\n");
  });

  it("answers 404 for other plain paths", async () => {
    assert.equal((await get1(server.port, "/nope")).status, 404);
  });

  for (const httpVersion of ["2", "1.1"] as const) {
    it(`serves Connect RPCs over HTTP/${httpVersion} with the bearer key, and refuses them without`, async () => {
      const baseUrl = `http://127.0.0.1:${server.port}`;
      const authed = createClient(
        hostagent.HostAgentService,
        createConnectTransport({
          baseUrl,
          httpVersion,
          interceptors: [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${KEY}`);
              return next(req);
            },
          ],
        }),
      );
      const info = await authed.getHostInfo({}, { timeoutMs: 10_000 });
      assert.equal(info.agentVersion, "test-version");
      await assert.rejects(authed.listCapsules({}, { timeoutMs: 10_000 }), (e) => {
        assert.equal(ConnectError.from(e).code, Code.Unimplemented);
        return true;
      });
      const anonymous = createClient(hostagent.HostAgentService, createConnectTransport({ baseUrl, httpVersion }));
      await assert.rejects(anonymous.getHostInfo({}, { timeoutMs: 10_000 }), (e) => {
        assert.equal(ConnectError.from(e).code, Code.Unauthenticated);
        return true;
      });
    });
  }

  it("answers uncompressed even to a client that accepts gzip", async () => {
    const big = await startRpcServer({
      listenAddr: "127.0.0.1:0",
      agentKey: KEY,
      // 8 KiB of one letter: far above Connect's 1 KiB compression threshold, and as compressible as it gets.
      service: { getHostInfo: () => ({ agentVersion: "v".repeat(8192) }) } as unknown as ServiceImpl<
        typeof hostagent.HostAgentService
      >,
    });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: big.port,
            method: "POST",
            path: "/hostagent.v1.HostAgentService/GetHostInfo",
            headers: {
              "content-type": "application/json",
              "accept-encoding": "gzip, br",
              authorization: `Bearer ${KEY}`,
            },
          },
          resolve,
        );
        req.on("error", reject);
        req.end("{}");
      });
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(
        (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { agentVersion: string }).agentVersion.length,
        8192,
      );
    } finally {
      await big.close(100);
    }
  });
});
