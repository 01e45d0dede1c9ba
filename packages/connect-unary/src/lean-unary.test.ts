/**
 * The lean unary path against connect-es itself, in both directions and both HTTP versions: the same answers, the
 * same errors, deadlines and cancellation reaching the handler, and everything it does not speak left to connect-es.
 */
import assert from "node:assert/strict";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { process as envdProcess } from "@wrenn/protocol";
import { leanUnaryTransport } from "./lean-unary-client.ts";
import { leanUnaryHandler } from "./lean-unary-server.ts";

type ProcessClient = Client<typeof envdProcess.Process>;

/** What the handlers saw. */
const seen = {
  leanCalls: 0,
  intercepted: [] as string[],
  aborted: [] as { pid: number; code: Code | undefined }[],
};

const PID_NOT_FOUND = 1;
const PID_THROWS_PLAIN = 2;
const PID_WAITS = 3;

const impl = {
  async list(_req: unknown, ctx: HandlerContext) {
    ctx.responseHeader.set("x-answer", "list");
    ctx.responseTrailer.set("x-done", "yes");
    return {
      processes: [
        {
          pid: 7,
          tag: ctx.requestHeader.get("x-probe") ?? "",
          config: { cmd: "sh", args: ["-c", "ünïcode"], envs: { A: "1" } },
        },
      ],
    };
  },
  async sendSignal(req: envdProcess.SendSignalRequest, ctx: HandlerContext) {
    const pid = req.process?.selector.case === "pid" ? req.process.selector.value : 0;
    if (pid === PID_NOT_FOUND) {
      throw new ConnectError("no such process", Code.NotFound, { "x-why": "gone" });
    }
    if (pid === PID_THROWS_PLAIN) throw new Error("plain failure");
    if (pid === PID_WAITS) {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      seen.aborted.push({ pid, code: ctx.signal.reason instanceof ConnectError ? ctx.signal.reason.code : undefined });
      throw ctx.signal.reason;
    }
    return {};
  },
  async sendInput() {
    return {};
  },
  async *start() {
    yield { event: { event: { case: "start" as const, value: { pid: 42 } } } };
  },
};

/** Rejects calls without `authorization: Bearer k` and records the order interceptors run in. */
const interceptors: Interceptor[] = [
  (next) => async (req) => {
    seen.intercepted.push(`outer:${req.method.name}`);
    if (req.header.get("authorization") !== "Bearer k") throw new ConnectError("no key", Code.Unauthenticated);
    return next(req);
  },
  (next) => async (req) => {
    seen.intercepted.push(`inner:${req.method.name}`);
    return next(req);
  },
];

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function handlers(withLean: boolean) {
  const connect = connectNodeAdapter({
    routes: (r) => r.service(envdProcess.Process, impl as never),
    interceptors,
  });
  const lean = leanUnaryHandler({
    service: envdProcess.Process,
    impl: impl as never,
    interceptors,
    readMaxBytes: 64 * 1024,
  });
  return (req: Req, res: Res) => {
    if (withLean && lean(req, res)) {
      seen.leanCalls++;
      return;
    }
    connect(req as never, res as never);
  };
}

/** Waits (up to 2 s) until the handlers have seen `n` aborts. */
async function abortsSeen(n: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while (seen.aborted.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** One unary request written by hand (binary unless `headers` say otherwise), as any Connect client would send it. */
async function rawCall(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise((resolve, reject) => {
      const s = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/proto",
        authorization: "Bearer k",
        ...headers,
      });
      let status = 0;
      let text = "";
      const answerHeaders: Record<string, string> = {};
      s.on("response", (h) => {
        status = Number(h[":status"]);
        for (const [k, v] of Object.entries(h)) {
          if (k === "content-type" || k.startsWith("x-") || k.startsWith("trailer-")) answerHeaders[k] = String(v);
        }
      });
      s.setEncoding("utf8");
      s.on("data", (c: string) => {
        text += c;
      });
      s.on("end", () => resolve({ status, body: text, headers: answerHeaders }));
      s.on("error", reject);
      s.end(body);
    });
  } finally {
    session.close();
  }
}

async function listen(server: http.Server | http2.Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const auth = { authorization: "Bearer k" };
/** connect-es's way of sending the key. */
const withKey: Interceptor = (next) => (req) => {
  req.header.set("authorization", "Bearer k");
  return next(req);
};

describe("lean Connect unary", () => {
  const h2Lean = http2.createServer({}, handlers(true));
  const h2Plain = http2.createServer({}, handlers(false));
  const h1Lean = http.createServer(handlers(true));
  const managers: Http2SessionManager[] = [];
  let leanUrl = "";
  let plainUrl = "";
  let h1Url = "";

  /** Lean client (connect-es streams on the same session). */
  const leanClient = (baseUrl: string, headers: Record<string, string> = auth): ProcessClient => {
    const sessionManager = new Http2SessionManager(baseUrl);
    managers.push(sessionManager);
    const streams = createConnectTransport({
      httpVersion: "2",
      baseUrl,
      sessionManager,
      useBinaryFormat: true,
      interceptors: [withKey],
    });
    return createClient(envdProcess.Process, leanUnaryTransport({ sessionManager, streams, headers: () => headers }));
  };
  /** connect-es's own client. */
  const esClient = (baseUrl: string, o: { json?: boolean; h1?: boolean } = {}): ProcessClient => {
    const sessionManager = new Http2SessionManager(baseUrl);
    managers.push(sessionManager);
    return createClient(
      envdProcess.Process,
      createConnectTransport({
        ...(o.h1 ? { httpVersion: "1.1" } : { httpVersion: "2", sessionManager }),
        baseUrl,
        useBinaryFormat: !o.json,
        interceptors: [withKey],
      }),
    );
  };

  before(async () => {
    leanUrl = await listen(h2Lean);
    plainUrl = await listen(h2Plain);
    h1Url = await listen(h1Lean);
  });
  after(() => {
    for (const m of managers) m.abort();
    h2Lean.close();
    h2Plain.close();
    h1Lean.close();
  });

  const expectList = (r: envdProcess.ListResponse, tag: string) => {
    assert.equal(r.processes.length, 1);
    const p = r.processes[0];
    assert.equal(p?.pid, 7);
    assert.equal(p?.tag, tag);
    assert.deepEqual(p?.config?.args, ["-c", "ünïcode"]);
    assert.deepEqual(p?.config?.envs, { A: "1" });
  };

  it("answers connect-es's binary unary calls itself, over HTTP/2 and HTTP/1.1, with the same message", async () => {
    const before = seen.leanCalls;
    expectList(await esClient(leanUrl).list({}, { headers: { "x-probe": "es-h2" } }), "es-h2");
    expectList(await esClient(h1Url, { h1: true }).list({}, { headers: { "x-probe": "es-h1" } }), "es-h1");
    assert.equal(seen.leanCalls, before + 2);
  });

  it("answers JSON calls itself, byte for byte as connect-es does, errors and unknown fields included", async () => {
    const before = seen.leanCalls;
    const cases: [path: string, body: string, headers: Record<string, string>][] = [
      ["/process.Process/List", "{}", { "x-probe": "json" }],
      ["/process.Process/List", '{"notAField": 1}', {}],
      ["/process.Process/SendSignal", JSON.stringify({ process: { pid: PID_NOT_FOUND }, signal: 9 }), {}],
      ["/process.Process/SendSignal", JSON.stringify({ process: { pid: 5 }, signal: "SIGNAL_SIGTERM" }), {}],
      ["/process.Process/SendSignal", '{"process": 5}', {}],
      ["/process.Process/List", "{nope", {}],
      ["/process.Process/List", "{}", { authorization: "Bearer wrong" }],
    ];
    for (const [path, body, headers] of cases) {
      const h = { "content-type": "application/json", ...headers };
      const got = await rawCall(leanUrl, path, h, Buffer.from(body));
      assert.deepEqual(got, await rawCall(plainUrl, path, h, Buffer.from(body)), `${path} ${body}`);
    }
    assert.equal(seen.leanCalls, before + cases.length);
    expectList(await esClient(leanUrl, { json: true }).list({}, { headers: { "x-probe": "json" } }), "json");
    expectList(await esClient(h1Url, { json: true, h1: true }).list({}, { headers: { "x-probe": "h1" } }), "h1");
    assert.equal(seen.leanCalls, before + cases.length + 2);
  });

  it("leaves streaming methods to connect-es", async () => {
    const before = seen.leanCalls;
    const events = [];
    for await (const ev of esClient(leanUrl).start({ process: { cmd: "x" } })) events.push(ev);
    assert.equal(events[0]?.event?.event.case, "start");
    assert.equal(seen.leanCalls, before);
  });

  it("its client talks to connect-es's server and to the lean server alike, headers and trailers included", async () => {
    for (const url of [plainUrl, leanUrl]) {
      const client = leanClient(url, { ...auth, "x-probe": "lean" });
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      const r = await client.list(
        {},
        {
          onHeader: (h) => {
            header = h;
          },
          onTrailer: (t) => {
            trailer = t;
          },
        },
      );
      expectList(r, "lean");
      assert.equal(header?.get("x-answer"), "list", url);
      assert.equal(trailer?.get("x-done"), "yes", url);
      // Streaming methods go through connect-es on the same session.
      const events = [];
      for await (const ev of client.start({ process: { cmd: "x" } })) events.push(ev);
      assert.equal(events[0]?.event?.event.case, "start");
    }
  });

  it("carries errors, their codes and metadata, exactly as connect-es does", async () => {
    const call = async (client: ProcessClient, pid: number) => {
      try {
        await client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: 9 });
      } catch (err) {
        return ConnectError.from(err);
      }
      assert.fail("the call should have failed");
    };
    for (const pid of [PID_NOT_FOUND, PID_THROWS_PLAIN]) {
      const reference = await call(esClient(plainUrl), pid);
      const clients = [leanClient(leanUrl), leanClient(plainUrl), esClient(leanUrl)];
      for (const client of clients) {
        const err = await call(client, pid);
        assert.equal(err.code, reference.code, `pid ${pid}`);
        assert.equal(err.rawMessage, reference.rawMessage, `pid ${pid} client ${clients.indexOf(client)}`);
        assert.equal(err.metadata.get("x-why"), reference.metadata.get("x-why"), `pid ${pid}`);
      }
    }
    assert.equal((await call(leanClient(leanUrl), PID_NOT_FOUND)).code, Code.NotFound);
  });

  it("runs the interceptors around every call, first one outermost, and lets them refuse it", async () => {
    seen.intercepted.length = 0;
    await leanClient(leanUrl).list({});
    assert.deepEqual(seen.intercepted, ["outer:List", "inner:List"]);
    await assert.rejects(leanClient(leanUrl, {}).list({}), (err: unknown) => {
      return ConnectError.from(err).code === Code.Unauthenticated;
    });
  });

  it("aborts the handler at the deadline the caller sent, and when the caller gives up", async () => {
    seen.aborted.length = 0;
    const waiting = { process: { selector: { case: "pid" as const, value: PID_WAITS } }, signal: 9 };
    // The server's own deadline, with no client-side timer racing it.
    const body = toBinary(envdProcess.SendSignalRequestSchema, create(envdProcess.SendSignalRequestSchema, waiting));
    const timedOut = await rawCall(leanUrl, "/process.Process/SendSignal", { "connect-timeout-ms": "150" }, body);
    assert.equal(timedOut.status, 504);
    assert.equal(JSON.parse(timedOut.body).code, "deadline_exceeded");
    assert.deepEqual(seen.aborted, [{ pid: PID_WAITS, code: Code.DeadlineExceeded }]);
    // The client's deadline.
    const started = performance.now();
    await assert.rejects(leanClient(leanUrl).sendSignal(waiting, { timeoutMs: 200 }), (err: unknown) => {
      return ConnectError.from(err).code === Code.DeadlineExceeded;
    });
    assert.ok(performance.now() - started < 2000);
    await abortsSeen(2); // the server's side of that call ends on its own deadline or the reset, whichever is first
    // A caller that gives up: its stream is reset, and the handler hears of it.
    seen.aborted.length = 0;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(leanClient(leanUrl).sendSignal(waiting, { signal: controller.signal }), (err: unknown) => {
      return ConnectError.from(err).code === Code.Canceled;
    });
    await abortsSeen(1);
    assert.deepEqual(seen.aborted, [{ pid: PID_WAITS, code: Code.Canceled }]);
  });

  it("takes bodies of many MiB by default, as connect-es does", async () => {
    const defaults = http2.createServer(
      {},
      (req, res) => void leanUnaryHandler({ service: envdProcess.Process, impl: impl as never })(req, res),
    );
    const url = await listen(defaults);
    try {
      const stdin = new Uint8Array(12 * 1024 * 1024).fill(7);
      await leanClient(url).sendInput({ input: { input: { case: "stdin", value: stdin } } });
    } finally {
      for (const m of managers) m.abort();
      managers.length = 0;
      defaults.close();
    }
  });

  it("refuses bodies over its limit and bytes that are not the message", async () => {
    const big = new Uint8Array(100 * 1024);
    await assert.rejects(
      leanClient(leanUrl).sendInput({ input: { input: { case: "stdin", value: big } } }),
      (err: unknown) => ConnectError.from(err).code === Code.ResourceExhausted,
    );
    const answer = await rawCall(leanUrl, "/process.Process/List", {}, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    assert.equal(answer.status, 400);
    assert.equal(JSON.parse(answer.body).code, "invalid_argument");
  });

  it("reports a server it cannot reach as unavailable", async () => {
    const closed = http2.createServer();
    const url = await listen(closed);
    await new Promise((r) => closed.close(r));
    await assert.rejects(leanClient(url).list({}, { timeoutMs: 5000 }), (err: unknown) => {
      return ConnectError.from(err).code === Code.Unavailable;
    });
  });
});
