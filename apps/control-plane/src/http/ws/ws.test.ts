import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { Harness, type TestUser } from "../../testing/harness.ts";

type Msg = { type: string; [k: string]: unknown };

/** A ws client that records every message; waits are bounded by a deadline. */
class Client {
  readonly msgs: Msg[] = [];
  closed = false;
  closeCode?: number;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => this.msgs.push(JSON.parse(d.toString())));
    ws.on("close", (code) => {
      this.closed = true;
      this.closeCode = code;
    });
  }
  static async open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(url, { headers });
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return c;
  }
  send(m: unknown) {
    this.ws.send(typeof m === "string" ? m : JSON.stringify(m));
  }
  async until(pred: (c: Client) => boolean, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.msgs)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  has(type: string) {
    return this.msgs.some((m) => m.type === type);
  }
}

describe("capsule websockets", () => {
  let h: Harness;
  let admin: TestUser;
  let key: string;
  let id: string;
  let base: string;
  let agent: ReturnType<Harness["fleet"]["at"]>;
  const clients: Client[] = [];
  const open = async (path: string, headers?: Record<string, string>) => {
    const c = await Client.open(`${base}${path}`, headers);
    clients.push(c);
    return c;
  };

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    agent = (await h.onlineHost(admin)).agent;
    id = await h.capsule(key);
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const addr = h.app.server.address() as { port: number };
    base = `ws://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await h.close();
  });

  it("streams an exec with header credentials", async () => {
    const c = await open(`/v1/capsules/${id}/exec/stream`, { "x-api-key": key });
    c.send({ type: "start", cmd: "echo", args: ["hi"] });
    await c.until((x) => x.closed, "close after exit");
    assert.deepEqual(c.msgs, [
      { type: "start", pid: 42 },
      { type: "stdout", data: "hi\n" },
      { type: "exit", exit_code: 0 },
    ]);
  });

  it("authenticates with a first auth message (JWT or API key)", async () => {
    for (const token of [admin.token, key]) {
      const c = await open(`/v1/capsules/${id}/exec/stream`);
      c.send({ type: "auth", token });
      c.send({ type: "start", cmd: "fail", args: ["2"] });
      await c.until((x) => x.closed, "close");
      assert.deepEqual(c.msgs.at(-1), { type: "exit", exit_code: 2 });
      assert.ok(c.msgs.some((m) => m.type === "stderr" && m.data === "failed\n"));
    }
  });

  it("refuses a bad header credential before the upgrade", async () => {
    await assert.rejects(
      Client.open(`${base}/v1/capsules/${id}/exec/stream`, { "x-api-key": "wrn_00000000000000000000000000000000" }),
      /HTTP 401/,
    );
  });

  it("refuses a wrong first message and a bad token", async () => {
    const c = await open(`/v1/capsules/${id}/exec/stream`);
    c.send({ type: "start", cmd: "echo" });
    await c.until((x) => x.closed, "close");
    assert.equal(c.msgs[0]?.type, "error");
    const d = await open(`/v1/capsules/${id}/exec/stream`);
    d.send({ type: "auth", token: "not-a-jwt" });
    await d.until((x) => x.closed, "close");
    assert.equal(d.msgs[0]?.type, "error");
    assert.equal(d.msgs[0]?.code, "unauthorized");
  });

  it("answers malformed messages with error messages and keeps going", async () => {
    const c = await open(`/v1/capsules/${id}/exec/stream`, { "x-api-key": key });
    c.send("{not json");
    c.send({ nope: 1 });
    c.send({ type: "start" });
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.send({ type: "start", cmd: "echo", args: ["ok"] });
    await c.until((x) => x.closed, "close");
    assert.equal(c.msgs.filter((m) => m.type === "error").length, 4);
    assert.deepEqual(c.msgs.at(-1), { type: "exit", exit_code: 0 });
  });

  it("cancels a running exec on stop", async () => {
    const c = await open(`/v1/capsules/${id}/exec/stream`, { "x-api-key": key });
    c.send({ type: "start", cmd: "sleep" });
    await c.until((x) => x.has("start"), "start");
    c.send({ type: "stop" });
    await c.until((x) => x.closed, "close after stop");
  });

  it("gives 404 for another team's capsule over the socket", async () => {
    const other = await h.user("other");
    const c = await open(`/v1/capsules/${id}/exec/stream`, { authorization: `Bearer ${other.token}` });
    await c.until((x) => x.closed, "close");
    assert.equal(c.msgs[0]?.code, "not_found");
  });

  it("runs a PTY: start, input echo, resize, kill", async () => {
    const c = await open(`/v1/capsules/${id}/pty`, { "x-api-key": key });
    c.send({ type: "start", cols: 100, rows: 30 });
    await c.until((x) => x.has("started"), "started");
    const started = c.msgs.find((m) => m.type === "started")!;
    assert.match(String(started.tag), /^pty-[0-9a-f]{8}$/);
    assert.equal(started.pid, 7);
    c.send({ type: "input", data: Buffer.from("ls\n").toString("base64") });
    await c.until(
      (x) => x.msgs.some((m) => m.type === "output" && Buffer.from(String(m.data), "base64").toString() === "ls\n"),
      "echo",
    );
    c.send({ type: "resize", cols: 120, rows: 40 });
    c.send({ type: "bogus" });
    await c.until((x) => x.msgs.some((m) => m.type === "error" && m.fatal === false), "non-fatal error");
    await c.until(() => agent.calls.includes("ptyResize:120x40"), "resize rpc");
    c.send({ type: "kill" });
    await c.until((x) => x.has("exit"), "exit");
    assert.equal(c.msgs.find((m) => m.type === "exit")?.exit_code, 137);
  });

  it("reattaches a PTY by tag and rejects a bad first message", async () => {
    const c = await open(`/v1/capsules/${id}/pty`, { "x-api-key": key });
    c.send({ type: "connect", tag: "pty-abcdef01" });
    await c.until((x) => x.has("started"), "started");
    assert.equal(c.msgs.find((m) => m.type === "started")?.tag, "pty-abcdef01");
    c.ws.close();
    const bad = await open(`/v1/capsules/${id}/pty`, { "x-api-key": key });
    bad.send({ type: "start", cols: "wide" });
    await bad.until((x) => x.closed, "close");
    assert.equal(bad.msgs[0]?.type, "error");
    assert.equal(bad.msgs[0]?.fatal, true);
  });

  it("attaches to a background process by tag", async () => {
    const bg = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "server", background: true, tag: "web" });
    assert.equal(bg.status, 202);
    const c = await open(`/v1/capsules/${id}/processes/web/stream`, { "x-api-key": key });
    await c.until((x) => x.closed, "close");
    assert.deepEqual(c.msgs, [
      { type: "start", pid: bg.json.pid },
      { type: "stdout", data: "attached web\n" },
      { type: "exit", exit_code: 0 },
    ]);
    const missing = await open(`/v1/capsules/${id}/processes/nope/stream`, { "x-api-key": key });
    await missing.until((x) => x.closed, "close");
    assert.equal(missing.msgs[0]?.type, "error");
  });
});
