/**
 * The port proxy with the real stack: servers started inside a capsule answer at `{port}-{capsule id}.{domain}`
 * through the control plane and the host agent (HTTP, a streamed upload, a WebSocket), a port nobody listens on
 * answers 502, and a paused capsule 409.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  pollUntil,
  skipReason,
  stackApi,
  startTestStack,
  type TestStack,
} from "../../apps/cli/src/testing/e2e-stack.ts";

const skip = skipReason();
let stack: TestStack;

before(
  async () => {
    if (!skip) stack = await startTestStack();
  },
  { timeout: 1_200_000 },
);
after(async () => {
  await stack?.teardown();
});

/** One REST call with the stack's API key; returns status and decoded body. */
const api = stackApi(() => stack, 300_000);

/** Starts `script` in the capsule in the background (POST /exec with background: true). */
async function background(id: string, script: string): Promise<void> {
  const r = await api("POST", `/v1/capsules/${id}/exec`, { cmd: "/bin/sh", args: ["-c", script], background: true });
  assert.equal(r.status, 202, JSON.stringify(r.json));
}

/** A request through the proxy: to the control plane's socket with `Host: {port}-{id}.localhost`. */
function proxied(
  id: string,
  port: number,
  path: string,
  opts: { method?: string; chunks?: Buffer[] } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const cp = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: cp.hostname,
        port: cp.port,
        path,
        method: opts.method ?? "GET",
        headers: { host: `${port}-${id}.localhost` },
        agent: false,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("proxied request timed out")));
    req.on("error", reject);
    const chunks = opts.chunks ?? [];
    // Written one by one as the socket drains: the body streams, it is never one buffer.
    const next = (i: number): void => {
      if (i >= chunks.length) return void req.end();
      if (req.write(chunks[i])) setImmediate(() => next(i + 1));
      else req.once("drain", () => next(i + 1));
    };
    next(0);
  });
}

const FILE_SERVER =
  "mkdir -p /root/site/dir && cd /root/site && echo hello-through-the-proxy > hello.txt && " +
  "echo in-dir > dir/index.html && exec python3 -m http.server 8000";

/** Echoes a POST body (Content-Length or chunked) back with its length. */
const ECHO_SERVER = `
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if n == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(n)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("0.0.0.0", 8001), H).serve_forever()
`;

/** A minimal WebSocket echo server (RFC 6455 handshake, unfragmented frames under 64 KiB) on the socket module. */
const WS_SERVER = `
import base64, hashlib, socket, struct, threading
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
def serve(c):
    f = c.makefile("rb")
    key = b""
    while True:
        line = f.readline()
        if line in (b"\\r\\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip().encode()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: " + accept + b"\\r\\n\\r\\n")
    while True:
        h = f.read(2)
        if len(h) < 2:
            break
        op, n = h[0] & 15, h[1] & 127
        if n == 126:
            n = struct.unpack(">H", f.read(2))[0]
        mask = f.read(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(f.read(n)))
        if op == 8:
            c.sendall(b"\\x88\\x00")
            break
        c.sendall(bytes([0x80 | op]) + (bytes([n]) if n < 126 else b"\\x7e" + struct.pack(">H", n)) + data)
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8002))
s.listen(8)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;

/** Writes `source` to `path` in the capsule and runs it with python3 in the background. */
async function startPython(id: string, path: string, source: string): Promise<void> {
  const b64 = Buffer.from(source).toString("base64");
  await background(id, `echo ${b64} | base64 -d > ${path} && exec python3 ${path}`);
}

describe("port proxy through the control plane", { skip, timeout: 600_000 }, () => {
  let id = "";

  before(async () => {
    const c = await api("POST", "/v1/capsules", { template: "minimal" });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    id = c.json.id;
    await background(id, FILE_SERVER);
    await startPython(id, "/root/echo.py", ECHO_SERVER);
    await startPython(id, "/root/ws.py", WS_SERVER);
  });
  after(async () => {
    if (id) await api("DELETE", `/v1/capsules/${id}`);
  });

  it("serves a file from a server in the capsule, keeping trailing slashes and redirects", async () => {
    const r = await pollUntil(
      "the file server through the proxy",
      () => proxied(id, 8000, "/hello.txt"),
      (v) => v.status === 200,
      90_000,
      500,
    );
    assert.equal(r.body.toString(), "hello-through-the-proxy\n");
    const redirect = await proxied(id, 8000, "/dir");
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, "/dir/");
    const index = await proxied(id, 8000, "/dir/");
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), "in-dir\n");
  });

  it("streams a request body to a server in the capsule and its answer back", async () => {
    await pollUntil(
      "the echo server",
      () => proxied(id, 8001, "/", { method: "POST" }),
      (v) => v.status === 200,
      60_000,
      500,
    );
    const chunks = Array.from({ length: 32 }, (_, i) => Buffer.alloc(16 * 1024, 97 + (i % 26)));
    const r = await proxied(id, 8001, "/upload", { method: "POST", chunks });
    assert.equal(r.status, 200, r.body.toString().slice(0, 200));
    assert.equal(r.body.length, 512 * 1024);
    assert.ok(r.body.equals(Buffer.concat(chunks)), "the echoed body matches what was sent");
  });

  it("carries a WebSocket to a server in the capsule", async () => {
    const cp = new URL(stack.baseUrl);
    const echo = async (): Promise<string> => {
      const ws = new WebSocket(`ws://${cp.host}/socket`, { headers: { host: `8002-${id}.localhost` } });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("WebSocket open timed out")), 15_000);
          ws.once("open", () => {
            clearTimeout(timer);
            resolve();
          });
          ws.once("error", (err) => {
            clearTimeout(timer);
            reject(err);
          });
        });
        const answers: string[] = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`echo timed out: ${answers}`)), 15_000);
          ws.on("message", (m) => {
            answers.push(String(m));
            if (answers.length === 2) {
              clearTimeout(timer);
              resolve();
            }
          });
          ws.send("first");
          ws.send("second");
        });
        return answers.join(",");
      } finally {
        ws.terminate();
      }
    };
    const r = await pollUntil(
      "the WebSocket echo",
      () => echo().catch((err: Error) => err.message),
      (v) => v === "first,second",
      60_000,
      500,
    );
    assert.equal(r, "first,second");
  });

  it("answers 502 for a port nothing listens on, and 409 once the capsule is paused", async () => {
    const none = await proxied(id, 8009, "/");
    assert.equal(none.status, 502);
    const err = JSON.parse(none.body.toString()).error;
    assert.match(err.message, /nothing listens on port 8009/);
    const p = await api("POST", `/v1/capsules/${id}/pause`);
    assert.equal(p.status, 200, JSON.stringify(p.json));
    const paused = await proxied(id, 8000, "/hello.txt");
    assert.equal(paused.status, 409, paused.body.toString());
    assert.equal(JSON.parse(paused.body.toString()).error.code, "invalid_state");
  });
});
