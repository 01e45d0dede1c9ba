import assert from "node:assert/strict";
import http, { Agent } from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { hostagent } from "@wrenn/protocol";
import { Lanes, laneTransport } from "./lane-transport.ts";

type Service = typeof hostagent.HostAgentService;

/**
 * One Connect service on two ports, HTTP/1.1 and HTTP/2, counting which one each call reached and how many
 * HTTP/1.1 connections were opened.
 */
async function startServers() {
  const seen = { h1: 0, h2: 0, h1Connections: 0 };
  const handlerFor = (version: "h1" | "h2") =>
    connectNodeAdapter({
      routes: (router) =>
        router.service(hostagent.HostAgentService, {
          async pingCapsule(req) {
            seen[version]++;
            if (req.capsuleId === "fail") throw new ConnectError("refused", Code.FailedPrecondition);
            if (req.capsuleId === "slow") await new Promise((r) => setTimeout(r, 100));
            return {};
          },
          async *execStream() {
            seen[version]++;
            for (const pid of [1, 2, 3]) yield { event: { event: { case: "start", value: { pid } } } };
          },
        } as Partial<ServiceImpl<Service>> as ServiceImpl<Service>),
    });
  const h1 = http.createServer({ keepAliveTimeout: 65_000 }, handlerFor("h1"));
  h1.on("connection", () => seen.h1Connections++);
  const h2 = http2.createServer({}, handlerFor("h2"));
  const listen = (s: http.Server | http2.Http2Server) =>
    new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
  const [p1, p2] = [await listen(h1), await listen(h2)];
  return {
    seen,
    ports: { p1, p2 },
    close: () => {
      h1.closeAllConnections();
      h1.close();
      h2.close();
    },
  };
}

describe("lane transport", () => {
  let servers: Awaited<ReturnType<typeof startServers>>;
  let agent: Agent;
  let sessions: Http2SessionManager;
  let lanes: Lanes;
  const MAX = 3;

  before(async () => {
    servers = await startServers();
  });
  after(() => servers.close());

  beforeEach(() => {
    agent?.destroy();
    sessions?.abort();
    Object.assign(servers.seen, { h1: 0, h2: 0, h1Connections: 0 });
    agent = new Agent({ keepAlive: true, maxSockets: MAX });
    sessions = new Http2SessionManager(`http://127.0.0.1:${servers.ports.p2}`);
    lanes = new Lanes(agent, MAX);
  });
  after(() => {
    agent.destroy();
    sessions.abort();
  });

  const client = (streamsOverH1: boolean) => {
    const h1 = createConnectTransport({
      baseUrl: `http://127.0.0.1:${servers.ports.p1}`,
      httpVersion: "1.1",
      nodeOptions: { agent },
    });
    const h2 = createConnectTransport({
      baseUrl: `http://127.0.0.1:${servers.ports.p2}`,
      httpVersion: "2",
      sessionManager: sessions,
    });
    return createClient(hostagent.HostAgentService, laneTransport({ h1, h2, lanes, streamsOverH1 }));
  };

  it("sends calls one after another over one kept-alive HTTP/1.1 connection", async () => {
    const c = client(false);
    for (let i = 0; i < 20; i++) await c.pingCapsule({ capsuleId: "x" });
    assert.deepEqual(servers.seen, { h1: 20, h2: 0, h1Connections: 1 });
    assert.equal(lanes.inFlight, 0);
  });

  it("opens new HTTP/1.1 connections one at a time and sends the rest of a burst over HTTP/2", async () => {
    const c = client(false);
    await Promise.all(Array.from({ length: 30 }, () => c.pingCapsule({ capsuleId: "slow" })));
    // Cold pool: the first call opens the one connection; the 29 others must not open more at once.
    assert.deepEqual(servers.seen, { h1: 1, h2: 29, h1Connections: 1 });
    await Promise.all(Array.from({ length: 30 }, () => c.pingCapsule({ capsuleId: "slow" })));
    // One idle connection to reuse plus one more opened: two calls over HTTP/1.1.
    assert.equal(servers.seen.h1, 3);
    assert.equal(servers.seen.h1Connections, 2);
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 10 }, () => c.pingCapsule({ capsuleId: "x" })));
    assert.equal(servers.seen.h1Connections, MAX, "never more connections than the pool's bound");
    assert.equal(lanes.inFlight, 0);
  });

  it("releases the lane of a failed call", async () => {
    const c = client(false);
    await assert.rejects(
      c.pingCapsule({ capsuleId: "fail" }),
      (e) => ConnectError.from(e).code === Code.FailedPrecondition,
    );
    assert.equal(lanes.inFlight, 0);
    await c.pingCapsule({ capsuleId: "x" });
    assert.deepEqual(servers.seen, { h1: 2, h2: 0, h1Connections: 1 });
  });

  it("keeps server streams on HTTP/2 unless the client reads them to their end or aborts them", async () => {
    const pids = async (c: ReturnType<typeof client>, signal?: AbortSignal) => {
      const out: number[] = [];
      for await (const r of c.execStream({ capsuleId: "x" }, { signal })) {
        if (r.event?.event.case === "start") out.push(r.event.event.value.pid);
      }
      return out;
    };
    assert.deepEqual(await pids(client(false)), [1, 2, 3]);
    assert.deepEqual(servers.seen, { h1: 0, h2: 1, h1Connections: 0 });

    const foreground = client(true);
    const done = new AbortController();
    assert.deepEqual(await pids(foreground, done.signal), [1, 2, 3]);
    assert.equal(lanes.inFlight, 0, "a stream read to its end gives its connection back");
    done.abort(); // what execInGuest does after every call: harmless once the stream has ended
    await foreground.pingCapsule({ capsuleId: "x" });
    assert.deepEqual(servers.seen, { h1: 2, h2: 1, h1Connections: 1 }, "the same connection serves the next call");

    const hangUp = new AbortController();
    const it = foreground.execStream({ capsuleId: "x" }, { signal: hangUp.signal })[Symbol.asyncIterator]();
    await it.next();
    assert.equal(lanes.inFlight, 1);
    hangUp.abort();
    assert.equal(lanes.inFlight, 0, "an aborted stream gives its lane back at once");
    await it.next().catch(() => undefined);
  });
});
