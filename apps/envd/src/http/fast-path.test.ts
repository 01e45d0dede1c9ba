import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { process as pb } from "@wrenn/protocol";
import { EnvdHarness, runToEnd } from "../testing/envd-harness.ts";
import { compileTestSpawner } from "../testing/spawner-binary.ts";

/** Sends `request` on `socket` and reads one response whose body is framed by Content-Length or chunks. */
function exchange(socket: net.Socket, request: Buffer | string): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.toString("latin1", 0, end);
      const rest = buf.subarray(end + 4);
      const length = /content-length: (\d+)/i.exec(head);
      let body: Buffer | undefined;
      if (length) {
        if (rest.length >= Number(length[1])) body = rest.subarray(0, Number(length[1]));
      } else if (rest.includes("\r\n0\r\n\r\n") || rest.subarray(0, 5).toString() === "0\r\n\r\n") {
        const parts: Buffer[] = [];
        for (let at = 0; ; ) {
          const lineEnd = rest.indexOf("\r\n", at);
          const size = Number.parseInt(rest.toString("latin1", at, lineEnd), 16);
          if (size === 0) break;
          parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          at = lineEnd + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      }
      if (!body) return;
      socket.off("data", onData);
      resolve({ head, body });
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(request);
  });
}

const startOf = (cmd: string, token: string, args: string[] = []) => {
  const msg = toBinary(pb.StartRequestSchema, create(pb.StartRequestSchema, { process: { cmd, args } }));
  const envelope = Buffer.alloc(5 + msg.length);
  envelope.writeUInt32BE(msg.length, 1);
  envelope.set(msg, 5);
  return Buffer.concat([
    Buffer.from(
      "POST /process.Process/Start HTTP/1.1\r\nHost: envd\r\nContent-Type: application/connect+proto\r\n" +
        `Connect-Protocol-Version: 1\r\nX-Access-Token: ${token}\r\nContent-Length: ${envelope.length}\r\n\r\n`,
    ),
    envelope,
  ]);
};

const END_OF_STREAM = Buffer.from([2, 0, 0, 0, 2, 0x7b, 0x7d]);

/** The stream's messages (the end-of-stream envelope left out). */
function events(body: Buffer): pb.StartResponse[] {
  const out: pb.StartResponse[] = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at + 1);
    if (body[at] === 0) out.push(fromBinary(pb.StartResponseSchema, body.subarray(at + 5, at + 5 + length)));
    at += 5 + length;
  }
  return out;
}

/** What a stream said: stdout, and how the process ended. */
function summary(body: Buffer): { stdout: string; end: string | undefined } {
  let stdout = "";
  let end: string | undefined;
  for (const e of events(body)) {
    const ev = e.event?.event;
    if (ev?.case === "data" && ev.value.output.case === "stdout") stdout += Buffer.from(ev.value.output.value);
    if (ev?.case === "end") end = ev.value.status;
  }
  return { stdout, end };
}

describe("envd's HTTP/1.1 fast path", () => {
  let envd: EnvdHarness;
  before(async () => {
    envd = await EnvdHarness.start({ spawner: await compileTestSpawner() });
    const init = await envd.fetch("/init", { method: "POST", body: JSON.stringify({ accessToken: "tok" }) });
    assert.equal(init.status, 204);
  });
  after(() => envd.close());

  it("answers /health and binary calls with the right token itself, and leaves the rest to Node's server", async () => {
    const socket = net.connect(envd.port, "127.0.0.1");
    try {
      // Which server answered shows in the head: the fast path writes its fields in lower case, Node's server
      // capitalizes the ones it adds ("Keep-Alive").
      const fast = /\r\nkeep-alive: timeout=65/;
      const node = /\r\nKeep-Alive: timeout=65/;
      const health = await exchange(socket, "GET /health HTTP/1.1\r\nHost: envd\r\n\r\n");
      assert.match(health.head, /^HTTP\/1\.1 200/);
      assert.match(health.head, fast);
      assert.match(health.body.toString(), /"version"/);
      const start = await exchange(socket, startOf("/bin/true", "tok"));
      assert.match(start.head, /^HTTP\/1\.1 200/);
      assert.match(start.head, fast);
      assert.ok(start.body.subarray(-END_OF_STREAM.length).equals(END_OF_STREAM), "the stream ended cleanly");
      assert.equal(summary(start.body).end, "exit status 0");
      // A wrong token: left to the router, which refuses it as Connect does. The connection is Node's from then
      // on, and a good call on it still works.
      const refused = await exchange(socket, startOf("/bin/true", "wrong"));
      assert.match(refused.head, /^HTTP\/1\.1 401/);
      assert.match(refused.head, node);
      assert.match(refused.body.toString(), /unauthenticated/);
      const afterHandOver = await exchange(socket, startOf("/bin/true", "tok"));
      assert.match(afterHandOver.head, node);
      assert.equal(summary(afterHandOver.body).end, "exit status 0");
    } finally {
      socket.destroy();
    }
  });

  it("keeps the connections of Node's HTTP client (chunked bodies, as the agent sends them), binary or JSON, on the fast path", async () => {
    const before = envd.envd.server.h1Connections;
    const binary = envd.processClient("1.1", { "X-Access-Token": "tok" });
    await binary.list({});
    const ended = await runToEnd(binary.start({ process: { cmd: "/bin/sh", args: ["-c", "echo hi"] } }));
    assert.equal(ended.stdout, "hi\n");
    await binary.list({});
    // JSON calls (the default of Connect's web clients) stay on it too.
    const json = envd.processClient("1.1", { "X-Access-Token": "tok" }, "json");
    await json.list({});
    const jsonEnded = await runToEnd(json.start({ process: { cmd: "/bin/sh", args: ["-c", "echo json"] } }));
    assert.equal(jsonEnded.stdout, "json\n");
    assert.equal(envd.envd.server.h1Connections, before, "no connection went to Node's server");
  });

  it("streams the output of a command that runs on in chunks, as it comes", async () => {
    const socket = net.connect(envd.port, "127.0.0.1");
    try {
      let firstChunkAt = 0;
      socket.once("data", () => {
        firstChunkAt = Date.now();
      });
      const began = Date.now();
      const r = await exchange(socket, startOf("/bin/sh", "tok", ["-c", "echo a; sleep 0.5; echo b; exit 3"]));
      assert.match(r.head, /transfer-encoding: chunked/i);
      assert.deepEqual(summary(r.body), { stdout: "a\nb\n", end: "exit status 3" });
      assert.ok(firstChunkAt - began < Date.now() - began - 300, "the start came before the command ended");
    } finally {
      socket.destroy();
    }
  });
});
