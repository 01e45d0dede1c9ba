/**
 * The lean server-streaming path against connect-es's own server, read by connect-es's client over both HTTP
 * versions: the same messages and errors, cancellation and deadlines reaching the method, and backpressure.
 */
import assert from "node:assert/strict";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { process as envdProcess } from "@wrenn/protocol";
import { leanServerStreamHandler } from "./lean-stream-server.ts";
import { type PushStreamCall, pushAsGenerator } from "./push-stream.ts";

const seen = {
  lean: 0,
  aborted: [] as (Code | undefined)[],
  flooded: 0,
  floodEnded: false,
  pushCancelled: [] as Code[],
  pushFlooded: 0,
};
const BIG = new Uint8Array(64 * 1024).fill(1);

const impl = {
  async *start(req: envdProcess.StartRequest, ctx: HandlerContext) {
    const what = req.process?.cmd;
    const n = Number(req.process?.args[0] ?? 0);
    ctx.responseHeader.set("x-head", "h");
    ctx.responseTrailer.set("x-tail", "t");
    if (what === "fail-early") throw new ConnectError("refused", Code.PermissionDenied, { "x-why": "early" });
    if (what === "plain") throw new Error("a secret");
    if (what === "flood") {
      try {
        for (let i = 0; i < 10_000; i++) {
          seen.flooded++;
          yield {
            event: { event: { case: "data" as const, value: { output: { case: "stdout" as const, value: BIG } } } },
          };
        }
      } finally {
        seen.floodEnded = true;
      }
      return;
    }
    for (let i = 1; i <= n; i++) yield { event: { event: { case: "start" as const, value: { pid: i } } } };
    if (what === "fail-late") throw new ConnectError("gone", Code.NotFound, { "x-why": "late" });
    if (what === "forever") {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      seen.aborted.push(ctx.signal.reason instanceof ConnectError ? ctx.signal.reason.code : undefined);
    }
  },
};

type ConnectAnswer = { event: { event: { case: "start"; value: { pid: number } } } };

/**
 * `connect` as a push-style method, steered by the selector's tag: "count:N", "fail-early", "fail-late:N", "plain",
 * "forever:N" (until cancelled), "flood" (64 KiB messages, sending only while the call takes them).
 */
function pushConnect(req: envdProcess.ConnectRequest, call: PushStreamCall<ConnectAnswer>): void {
  const tag = req.process?.selector.case === "tag" ? req.process.selector.value : "";
  const [what, arg] = tag.split(":");
  const n = Number(arg ?? 0);
  const start = (pid: number): ConnectAnswer => ({ event: { event: { case: "start", value: { pid } } } });
  if (what === "fail-early") {
    call.end(new ConnectError("refused", Code.PermissionDenied));
    return;
  }
  if (what === "plain") throw new Error("a secret");
  if (what === "flood") {
    const big = { event: { event: { case: "data", value: { output: { case: "stdout", value: BIG } } } } };
    const pump = () => {
      while (!call.isDone && seen.pushFlooded < 10_000) {
        seen.pushFlooded++;
        if (!call.send(big as never)) return;
      }
      call.end();
    };
    call.onDrain(pump);
    call.onCancel(() => {
      seen.floodEnded = true;
    });
    pump();
    return;
  }
  // Answers come from later turns of the event loop, as a process's output does.
  let i = 0;
  const next = () => {
    if (call.isDone) return;
    if (i < n) {
      call.send(start(++i));
      setImmediate(next);
      return;
    }
    if (what === "fail-late") call.end(new ConnectError("gone", Code.NotFound));
    else if (what !== "forever") call.end();
  };
  if (what === "forever") call.onCancel((reason) => seen.pushCancelled.push(reason.code));
  setImmediate(next);
}
(impl as Record<string, unknown>).connect = pushAsGenerator(pushConnect);

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function handler(withLean: boolean) {
  const connect = connectNodeAdapter({ routes: (r) => r.service(envdProcess.Process, impl as never) });
  const lean = leanServerStreamHandler({
    service: envdProcess.Process,
    impl: impl as never,
    push: { connect: pushConnect as never },
  });
  return (req: Req, res: Res) => {
    if (withLean && lean(req, res)) {
      seen.lean++;
      return;
    }
    connect(req as never, res as never);
  };
}

async function listen(server: http.Server | http2.Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Everything a call produced: messages, headers, trailers, or the error. */
async function outcome(
  client: ReturnType<typeof createClient<typeof envdProcess.Process>>,
  cmd: string,
  args: string[] = [],
) {
  const out = { pids: [] as number[], head: "", tail: "", error: undefined as unknown };
  try {
    const stream = client.start(
      { process: { cmd, args } },
      {
        onHeader: (h) => {
          out.head = h.get("x-head") ?? "";
        },
        onTrailer: (t) => {
          out.tail = t.get("x-tail") ?? "";
        },
      },
    );
    for await (const r of stream) if (r.event?.event.case === "start") out.pids.push(r.event.event.value.pid);
  } catch (err) {
    const e = ConnectError.from(err);
    out.error = { code: e.code, message: e.rawMessage, why: e.metadata.get("x-why") };
  }
  return out;
}

/** Reads `stream` to its end, calling `each` per message, and expects it to fail with `code`. */
async function failsWith(stream: AsyncIterable<unknown>, code: Code, each: () => void = () => {}) {
  await assert.rejects(
    (async () => {
      for await (const _ of stream) each();
    })(),
    (err: unknown) => ConnectError.from(err).code === code,
  );
}

/** A JSON `Start` stream written by hand over HTTP/1.1: status, content type and the whole body as text. */
function rawStream(baseUrl: string, json: string): Promise<{ status: number; type: string; body: string }> {
  const message = Buffer.from(json);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/process.Process/Start`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", "connect-protocol-version": "1" },
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject);
    req.end(Buffer.concat([head, message]));
  });
}

/** Waits (up to 3 s) until `done` holds. */
async function waitUntil(done: () => boolean) {
  const deadline = Date.now() + 3000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** What a push-style `connect` call produced: the pids, or the error. */
async function pushOutcome(client: ReturnType<typeof createClient<typeof envdProcess.Process>>, tag: string) {
  const out = { pids: [] as number[], error: undefined as unknown };
  try {
    for await (const r of client.connect({ process: { selector: { case: "tag", value: tag } } })) {
      if (r.event?.event.case === "start") out.pids.push(r.event.event.value.pid);
    }
  } catch (err) {
    const e = ConnectError.from(err);
    out.error = { code: e.code, message: e.rawMessage };
  }
  return out;
}

describe("lean Connect server streams", () => {
  const servers = {
    leanH2: http2.createServer({}, handler(true)),
    plainH2: http2.createServer({}, handler(false)),
    leanH1: http.createServer(handler(true)),
    plainH1: http.createServer(handler(false)),
  };
  const urls: Record<keyof typeof servers, string> = { leanH2: "", plainH2: "", leanH1: "", plainH1: "" };
  const managers: Http2SessionManager[] = [];
  const client = (url: string, o: { h1?: boolean; json?: boolean } = {}) => {
    const sessionManager = new Http2SessionManager(url);
    managers.push(sessionManager);
    const none: Interceptor[] = [];
    return createClient(
      envdProcess.Process,
      createConnectTransport({
        ...(o.h1 ? { httpVersion: "1.1" } : { httpVersion: "2", sessionManager }),
        baseUrl: url,
        useBinaryFormat: !o.json,
        interceptors: none,
      }),
    );
  };

  before(async () => {
    for (const k of Object.keys(servers) as (keyof typeof servers)[]) urls[k] = await listen(servers[k]);
  });
  after(() => {
    for (const m of managers) m.abort();
    for (const s of Object.values(servers)) s.close();
  });

  for (const [h1, json] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    const what = `${json ? "JSON" : "binary"} over HTTP/${h1 ? "1.1" : "2"}`;
    it(`answers as connect-es does, ${what}: messages, headers, trailers and errors`, async () => {
      const lean = client(h1 ? urls.leanH1 : urls.leanH2, { h1, json });
      const reference = client(h1 ? urls.plainH1 : urls.plainH2, { h1, json });
      const before = seen.lean;
      for (const [cmd, args] of [
        ["count", ["5"]],
        ["count", ["0"]],
        ["fail-late", ["2"]],
        ["fail-early", []],
        ["plain", []],
      ] as const) {
        const got = await outcome(lean, cmd, [...args]);
        assert.deepEqual(got, await outcome(reference, cmd, [...args]), cmd);
      }
      assert.equal(seen.lean, before + 5);
      assert.deepEqual((await outcome(lean, "count", ["3"])).pids, [1, 2, 3]);
      assert.deepEqual((await outcome(lean, "fail-late", ["2"])).error, {
        code: Code.NotFound,
        message: "gone",
        why: "late",
      });
    });
  }

  it("writes JSON streams byte for byte as connect-es does, bad and unknown fields included", async () => {
    const before = seen.lean;
    const bodies = [
      { process: { cmd: "count", args: ["3"] } },
      { process: { cmd: "fail-late", args: ["1"] } },
      { process: { cmd: "fail-early" }, notAField: true },
      { process: { cmd: 7 } },
    ].map((m) => JSON.stringify(m));
    for (const body of [...bodies, "{nope"]) {
      const got = await rawStream(urls.leanH1, body);
      assert.deepEqual(got, await rawStream(urls.plainH1, body), body);
    }
    assert.equal(seen.lean, before + bodies.length + 1);
    assert.match((await rawStream(urls.leanH1, bodies[0] ?? "")).body, /"pid":3/);
  });

  it("writes JSON answers with the method's own JSON encoder when it has one, and binary ones without it", async () => {
    const lean = leanServerStreamHandler({
      service: envdProcess.Process,
      impl: impl as never,
      jsonEncoders: { start: (() => Buffer.from('{"event":{"start":{"pid":99}}}')) as never },
    });
    const server = http.createServer((req, res) => {
      if (!lean(req, res)) res.writeHead(500).end();
    });
    const url = await listen(server);
    try {
      assert.deepEqual((await outcome(client(url, { h1: true, json: true }), "count", ["2"])).pids, [99, 99]);
      assert.deepEqual((await outcome(client(url, { h1: true }), "count", ["2"])).pids, [1, 2]);
    } finally {
      server.close();
    }
  });

  it("aborts the method when the caller gives up and at the caller's deadline", async () => {
    seen.aborted.length = 0;
    const controller = new AbortController();
    const stream = client(urls.leanH2).start(
      { process: { cmd: "forever", args: ["1"] } },
      { signal: controller.signal },
    );
    await failsWith(stream, Code.Canceled, () => controller.abort());
    const timed = client(urls.leanH1, { h1: true }).start(
      { process: { cmd: "forever", args: ["1"] } },
      { timeoutMs: 300 },
    );
    await failsWith(timed, Code.DeadlineExceeded);
    await waitUntil(() => seen.aborted.length >= 2);
    assert.equal(seen.aborted.length, 2);
    assert.equal(seen.aborted[0], Code.Canceled);
    // The second ends on the server's deadline or on the client's reset, whichever comes first.
    assert.ok(seen.aborted[1] === Code.DeadlineExceeded || seen.aborted[1] === Code.Canceled);
  });

  it("stops producing while the caller does not read, and ends the method when it leaves", async () => {
    seen.flooded = 0;
    seen.floodEnded = false;
    const controller = new AbortController();
    const it = client(urls.leanH2)
      .start({ process: { cmd: "flood" } }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    await it.next();
    await new Promise((r) => setTimeout(r, 500));
    const whileStalled = seen.flooded;
    await new Promise((r) => setTimeout(r, 300));
    // 10,000 messages of 64 KiB would be 625 MiB; a stalled reader holds it to what the buffers take.
    assert.ok(whileStalled < 400, `produced ${whileStalled} messages for a reader that took one`);
    assert.equal(seen.flooded, whileStalled, "kept producing while the reader was stalled");
    controller.abort();
    await waitUntil(() => seen.floodEnded);
    assert.ok(seen.floodEnded, "the method was never ended");
  });

  for (const h1 of [false, true]) {
    it(`serves a push-style method as connect-es serves its generator, over HTTP/${h1 ? "1.1" : "2"}`, async () => {
      const lean = client(h1 ? urls.leanH1 : urls.leanH2, { h1 });
      const reference = client(h1 ? urls.plainH1 : urls.plainH2, { h1 });
      const expected: Record<string, unknown> = {
        "count:4": { pids: [1, 2, 3, 4], error: undefined },
        "count:0": { pids: [], error: undefined },
        "fail-late:2": { pids: [1, 2], error: { code: Code.NotFound, message: "gone" } },
        "fail-early": { pids: [], error: { code: Code.PermissionDenied, message: "refused" } },
        plain: { pids: [], error: { code: Code.Internal, message: "internal error" } },
      };
      const before = seen.lean;
      for (const [tag, want] of Object.entries(expected)) {
        assert.deepEqual(await pushOutcome(lean, tag), want, `lean ${tag}`);
        assert.deepEqual(await pushOutcome(reference, tag), want, `connect-es ${tag}`);
      }
      assert.equal(seen.lean, before + Object.keys(expected).length);
    });
  }

  it("cancels a push-style call when the caller gives up and at the caller's deadline, on both paths", async () => {
    seen.pushCancelled.length = 0;
    for (const url of [urls.leanH2, urls.plainH2]) {
      const controller = new AbortController();
      const stream = client(url).connect(
        { process: { selector: { case: "tag", value: "forever:1" } } },
        { signal: controller.signal },
      );
      await failsWith(stream, Code.Canceled, () => controller.abort());
    }
    const timed = client(urls.leanH1, { h1: true }).connect(
      { process: { selector: { case: "tag", value: "forever:1" } } },
      { timeoutMs: 300 },
    );
    await failsWith(timed, Code.DeadlineExceeded);
    await waitUntil(() => seen.pushCancelled.length >= 3);
    assert.equal(seen.pushCancelled.length, 3, "every call was cancelled once");
    assert.deepEqual(seen.pushCancelled.slice(0, 2), [Code.Canceled, Code.Canceled]);
    assert.ok(seen.pushCancelled[2] === Code.DeadlineExceeded || seen.pushCancelled[2] === Code.Canceled);
  });

  // (Through connect-es the method is held back only as far as connect-es itself waits; push-stream.test.ts checks
  // what the generator does.)
  for (const path of ["lean"] as const) {
    it(`holds a push-style method back while the caller does not read (${path})`, async () => {
      seen.pushFlooded = 0;
      seen.floodEnded = false;
      const controller = new AbortController();
      const it = client(urls.leanH2)
        .connect({ process: { selector: { case: "tag", value: "flood" } } }, { signal: controller.signal })
        [Symbol.asyncIterator]();
      await it.next();
      await new Promise((r) => setTimeout(r, 500));
      const whileStalled = seen.pushFlooded;
      await new Promise((r) => setTimeout(r, 300));
      // 10,000 messages of 64 KiB would be 625 MiB; a stalled reader holds it to what the buffers take.
      assert.ok(whileStalled < 400, `sent ${whileStalled} messages to a reader that took one`);
      assert.equal(seen.pushFlooded, whileStalled, "kept sending while the reader was stalled");
      // Reading on lets it go on: onDrain calls back.
      for (let i = 0; i < 50; i++) await it.next();
      assert.ok(seen.pushFlooded > whileStalled, "never resumed after the reader caught up");
      controller.abort();
      await waitUntil(() => seen.floodEnded);
      assert.ok(seen.floodEnded, "the call was never cancelled");
    });
  }
});
