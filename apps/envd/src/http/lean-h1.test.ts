import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../logger.ts";
import { type FastPath, LeanH1Connection, LeanH1Response, parseChunkedBody, parseHead } from "./lean-h1.ts";
import { EnvdServer } from "./server.ts";

/** One parsed HTTP/1.1 response. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw client: writes bytes as given, parses the responses that come back, in order. */
class RawClient {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.wake();
    });
    this.socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on("error", () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async more(deadline: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.toString("latin1"))}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no answer in time; unread: ${JSON.stringify(this.buf.toString("latin1"))}`);
    // A timer per wait, cleared when data comes: left running, they would keep the test process alive.
    await new Promise<void>((r) => {
      const timer = setTimeout(r, left);
      this.waiters.push(() => {
        clearTimeout(timer);
        r();
      });
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next whole response (body by Content-Length or chunked framing). */
  async answer(timeoutMs = 5000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    let end = this.buf.indexOf("\r\n\r\n");
    while (end < 0) {
      await this.more(deadline);
      end = this.buf.indexOf("\r\n\r\n");
    }
    const [statusLine, ...lines] = this.buf.toString("latin1", 0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let at = end + 4;
    let body = "";
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        let lineEnd = this.buf.indexOf("\r\n", at);
        while (lineEnd < 0) {
          await this.more(deadline);
          lineEnd = this.buf.indexOf("\r\n", at);
        }
        const size = Number.parseInt(this.buf.toString("latin1", at, lineEnd), 16);
        while (this.buf.length < lineEnd + 2 + size + 2) await this.more(deadline);
        body += this.buf.toString("latin1", lineEnd + 2, lineEnd + 2 + size);
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else {
      const length = Number(headers["content-length"] ?? 0);
      while (this.buf.length < at + length) await this.more(deadline);
      body = this.buf.toString("latin1", at, at + length);
      at += length;
    }
    this.buf = this.buf.subarray(at);
    return { status: Number(statusLine?.split(" ")[1]), headers, body };
  }

  close(): void {
    this.socket.destroy();
  }
}

const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: envd\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe("HTTP/1.1 fast path", () => {
  const nodeSaw: string[] = [];
  const held: LeanH1Response[] = [];
  let floodResult: { firstFalseAfter: number; drained: boolean } | undefined;
  const fast: FastPath = (req, res) => {
    const body = req.body.toString("latin1");
    switch (req.url) {
      case "/fast/now":
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(Buffer.from(`fast:${body}`));
        return true;
      case "/fast/tick":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write(Buffer.from("a"));
        res.write(Buffer.from("b"));
        res.end(Buffer.from("c"));
        return true;
      case "/fast/stream":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write(Buffer.from("a"));
        setImmediate(() => {
          res.write(Buffer.from("b"));
          setTimeout(() => res.end(Buffer.from("c")), 20);
        });
        return true;
      case "/fast/later":
        setTimeout(() => {
          res.writeHead(200, {});
          res.end(Buffer.from("later"));
        }, 50);
        return true;
      case "/fast/hold":
        res.writeHead(200, {});
        res.write(Buffer.from("held"));
        held.push(res);
        return true;
      case "/fast/flood": {
        res.writeHead(200, {});
        const chunk = Buffer.alloc(64 * 1024, 120);
        let written = 0;
        while (res.write(chunk)) {
          written += chunk.length;
          if (written > 512 * 1024 * 1024) throw new Error("the socket never pushed back");
        }
        floodResult = { firstFalseAfter: written + chunk.length, drained: false };
        res.once("drain", () => {
          if (floodResult) floodResult.drained = true;
          res.end();
        });
        return true;
      }
      default:
        return false;
    }
  };
  const server = new EnvdServer(
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const seen = `node:${req.method} ${req.url} ${Buffer.concat(chunks).toString("latin1")}`;
        nodeSaw.push(seen);
        // With its length: an HTTP/1.0 answer without one would end only when the connection does.
        res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(seen) });
        res.end(seen);
      });
    },
    createLogger("silent"),
    fast,
  );
  let port = 0;
  before(async () => {
    port = await server.listen(0, "127.0.0.1");
  });
  after(() => server.close());

  it("answers a response that ends in the tick it began as one body with its length", async () => {
    const c = new RawClient(port);
    c.send(post("/fast/tick", "x"));
    const a = await c.answer();
    assert.equal(a.status, 200);
    assert.equal(a.body, "abc");
    assert.equal(a.headers["content-length"], "3");
    assert.equal(a.headers["transfer-encoding"], undefined);
    assert.equal(a.headers.connection, "keep-alive");
    assert.equal(a.headers["keep-alive"], "timeout=65");
    assert.ok(!Number.isNaN(Date.parse(a.headers.date ?? "")), "a Date header");
    // The connection stays open for the next request.
    c.send(post("/fast/now", "again"));
    assert.equal((await c.answer()).body, "fast:again");
    c.close();
  });

  it("frames a response written over several ticks in chunks", async () => {
    const c = new RawClient(port);
    c.send(post("/fast/stream", ""));
    const a = await c.answer();
    assert.equal(a.headers["transfer-encoding"], "chunked");
    assert.equal(a.headers["content-length"], undefined);
    assert.equal(a.body, "abc");
    c.send(post("/fast/now", "next"));
    assert.equal((await c.answer()).body, "fast:next");
    c.close();
  });

  it("reads a request whose head and body arrive in pieces", async () => {
    const c = new RawClient(port);
    const text = post("/fast/now", "body-in-two-parts");
    for (const piece of [text.slice(0, 7), text.slice(7, 30), text.slice(30, -8), text.slice(-8)]) {
      c.send(piece);
      await sleep(15);
    }
    assert.equal((await c.answer()).body, "fast:body-in-two-parts");
    c.close();
  });

  it("reads a chunked request body, as Node's HTTP client sends every body, in pieces too", async () => {
    const c = new RawClient(port);
    const text =
      "POST /fast/now HTTP/1.1\r\nHost: envd\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
    for (const piece of [text.slice(0, 60), text.slice(60, 66), text.slice(66, -3), text.slice(-3)]) {
      c.send(piece);
      await sleep(15);
    }
    assert.equal((await c.answer()).body, "fast:abc0123456789");
    c.send(post("/fast/now", "still-fast"));
    assert.equal((await c.answer()).body, "fast:still-fast");
    c.close();
  });

  it("answers pipelined requests in order, each after the one before it ended", async () => {
    const c = new RawClient(port);
    c.send(post("/fast/later", "") + post("/fast/now", "second"));
    assert.equal((await c.answer()).body, "later");
    assert.equal((await c.answer()).body, "fast:second");
    c.close();
  });

  it("hands the connection to Node's server at the first request it does not take, with every byte", async () => {
    nodeSaw.length = 0;
    const c = new RawClient(port);
    c.send(post("/fast/now", "1"));
    assert.equal((await c.answer()).body, "fast:1");
    // Declined by the fast path, and pipelined behind it a request the fast path would have taken.
    c.send(post("/elsewhere", "hello") + post("/fast/now", "2"));
    assert.equal((await c.answer()).body, "node:POST /elsewhere hello");
    assert.equal((await c.answer()).body, "node:POST /fast/now 2", "after a hand-over the connection is Node's");
    c.close();
  });

  it("leaves requests with unusual framing to Node's server", async () => {
    const cases: Array<[string, string, string]> = [
      [
        "a chunk extension",
        "POST /fast/now HTTP/1.1\r\nHost: envd\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\n\r\n",
        "node:POST /fast/now abc",
      ],
      [
        "a trailer",
        "POST /fast/now HTTP/1.1\r\nHost: envd\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
        "node:POST /fast/now abc",
      ],
      ["HTTP/1.0", "POST /fast/now HTTP/1.0\r\nHost: envd\r\nContent-Length: 1\r\n\r\nz", "node:POST /fast/now z"],
      ["Connection: close", post("/fast/now", "z", "Connection: close\r\n"), "node:POST /fast/now z"],
      ["a header twice", post("/fast/now", "z", "X-A: 1\r\nX-A: 2\r\n"), "node:POST /fast/now z"],
      ["an absolute-form target", post("http://envd/fast/now", "z"), "node:POST http://envd/fast/now z"],
      [
        "a method it does not serve",
        "PUT /fast/now HTTP/1.1\r\nHost: envd\r\nContent-Length: 1\r\n\r\nz",
        "node:PUT /fast/now z",
      ],
    ];
    for (const [name, request, expected] of cases) {
      const c = new RawClient(port);
      c.send(request);
      assert.equal((await c.answer()).body, expected, name);
      c.close();
    }
    // Without a Host, Node's server refuses the request (400) where the fast path would have answered it.
    const c = new RawClient(port);
    c.send("POST /fast/now HTTP/1.1\r\nContent-Length: 1\r\n\r\nz");
    assert.equal((await c.answer()).status, 400);
    c.close();
  });

  it("tells a response in progress that its caller went away", async () => {
    const c = new RawClient(port);
    c.send(post("/fast/hold", ""));
    const gotHead = await new Promise<boolean>((resolve) => c.socket.once("data", () => resolve(true)));
    assert.ok(gotHead);
    const res = held.at(-1) as LeanH1Response;
    const closed = once(res, "close");
    c.close();
    await closed;
    assert.equal(res.destroyed, true);
    assert.equal(res.write(Buffer.from("more")), false, "nothing can be written after the caller left");
  });

  it("holds a writer back while its caller does not read, and lets it go on once the caller read", async () => {
    floodResult = undefined;
    const c = new RawClient(port);
    c.socket.pause();
    c.send(post("/fast/flood", ""));
    const ran = async () => {
      for (let i = 0; i < 100 && !floodResult; i++) await sleep(20);
      assert.ok(floodResult, "the writer ran");
      return floodResult;
    };
    const flood = await ran();
    assert.equal(flood.drained, false, "no drain while the caller reads nothing");
    c.socket.resume();
    const a = await c.answer(30_000);
    assert.equal(a.body.length, flood.firstFalseAfter, "every byte written arrived");
    assert.equal(flood.drained, true);
    c.close();
  });
});

describe("HTTP/1.1 fast path: idle connections", () => {
  it("closes a connection idle for the keep-alive time, but not one whose response is in progress", async () => {
    const responses: LeanH1Response[] = [];
    const serve: FastPath = (_req, res) => {
      res.writeHead(200, {});
      res.write(Buffer.from("x"));
      responses.push(res);
      return true;
    };
    const tcp = net.createServer((socket) => {
      socket.once("data", (first: Buffer) => new LeanH1Connection(socket, first, serve, () => {}, 200));
    });
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const port = (tcp.address() as net.AddressInfo).port;
    try {
      const busy = new RawClient(port);
      busy.send(post("/any", ""));
      const idle = new RawClient(port);
      idle.send(post("/any", ""));
      await sleep(50);
      (responses[1] as LeanH1Response).end();
      await sleep(600);
      assert.equal(idle.closed, true, "idle past the keep-alive time: closed");
      assert.equal(busy.closed, false, "a response still in progress keeps its connection");
      (responses[0] as LeanH1Response).end();
      await sleep(600);
      assert.equal(busy.closed, true, "closed once idle after its response ended");
    } finally {
      tcp.close();
    }
  });
});

describe("parseChunkedBody", () => {
  const body = Buffer.from("HEAD3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\nNEXT");
  it("waits for the last chunk, then gives the body and where the request ends", () => {
    const end = body.length - 4;
    for (let n = 4; n < end; n++) assert.equal(parseChunkedBody(body.subarray(0, n), 4), "incomplete", `prefix ${n}`);
    const whole = parseChunkedBody(body, 4);
    assert.ok(typeof whole === "object");
    assert.equal(whole.body.toString(), "abc0123456789abcdef");
    assert.equal(whole.end, end);
  });

  it("leaves malformed chunks and bodies above the limit to Node's server", () => {
    for (const text of ["x\r\n", "3\r\nabcd\r\n", "-1\r\n", "123456789\r\n", "3 \r\nabc\r\n0\r\n\r\n"]) {
      assert.equal(parseChunkedBody(Buffer.from(text), 0), "node", JSON.stringify(text));
    }
    assert.equal(parseChunkedBody(Buffer.from("200000\r\n"), 0), "node", "2 MiB announced");
  });
});

describe("LeanH1Response", () => {
  it("refuses a header that would break the head when it is set, as Node does", () => {
    const socket = new net.Socket();
    const res = new LeanH1Response(socket, { responseEnded() {} } as unknown as LeanH1Connection);
    assert.throws(() => res.writeHead(200, { "x-a": "1\r\nx-b: 2" }), TypeError);
    assert.throws(() => res.writeHead(200, { "bad name": "1" }), TypeError);
    res.writeHead(200, { "x-a": "fine" });
    socket.destroy();
  });
});

describe("parseHead", () => {
  it("waits for the end of a head, and leaves an oversized one to Node's server", () => {
    assert.equal(parseHead(Buffer.from("POST /x HTTP/1.1\r\nHost: a\r\n")), "incomplete");
    assert.equal(parseHead(Buffer.from(`GET /x HTTP/1.1\r\nX-Big: ${"a".repeat(17 * 1024)}`)), "node");
  });

  it("reads what a plain request says", () => {
    const head = parseHead(
      Buffer.from("POST /p.S/M HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX-Token:  t \r\n\r\n"),
    );
    assert.ok(typeof head === "object");
    assert.equal(head.method, "POST");
    assert.equal(head.url, "/p.S/M");
    assert.equal(head.bodyBytes, 12);
    assert.equal(head.headers["x-token"], "t");
    assert.equal(head.headers.host, "a");
  });

  it("leaves to Node's server what it could read differently from it", () => {
    for (const head of [
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
      "POST  /x HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    ]) {
      assert.equal(parseHead(Buffer.from(head, "latin1")), "node", JSON.stringify(head));
    }
  });
});
