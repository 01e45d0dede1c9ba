import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { Harness, type TestUser } from "../../../testing/harness.ts";

type Msg = { type: string; [k: string]: unknown };

/** A ws client that records every message and its close; waits are bounded by a deadline. */
class Client {
  readonly msgs: Msg[] = [];
  closed = false;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => this.msgs.push(JSON.parse(d.toString())));
    ws.on("close", () => {
      this.closed = true;
    });
  }
  static async open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    const c = new Client(new WebSocket(url, { headers }));
    await new Promise<void>((resolve, reject) => {
      c.ws.once("open", () => resolve());
      c.ws.once("error", reject);
      c.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return c;
  }
  send(m: unknown) {
    this.ws.send(JSON.stringify(m));
  }
  async until(pred: (c: Client) => boolean, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.msgs)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe("admin capsule websockets (/v1/admin/capsules/{id}/…)", () => {
  let h: Harness;
  let admin: TestUser;
  let user: TestUser;
  let userKey: string;
  let platformCapsule: string;
  let teamCapsule: string;
  let base: string;
  const clients: Client[] = [];
  const open = async (path: string, headers?: Record<string, string>) => {
    const c = await Client.open(`${base}${path}`, headers);
    clients.push(c);
    return c;
  };
  /** Opens `path`, authenticates with `token` and returns the client once the server has closed it or answered. */
  const execWith = async (path: string, token: string, headers?: Record<string, string>) => {
    const c = await open(path, headers);
    c.send({ type: "auth", token });
    c.send({ type: "start", cmd: "echo", args: ["from-admin"] });
    await c.until((x) => x.closed, "close");
    return c;
  };

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin"); // the first user becomes platform admin
    user = await h.user("ordinary");
    userKey = await h.apiKey(user);
    await h.onlineHost(admin);
    const c = await h.req("POST", "/v1/admin/capsules", { jwt: admin.token }, {});
    assert.equal(c.status, 201, c.body);
    platformCapsule = c.json.id;
    teamCapsule = await h.capsule(userKey);
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    base = `ws://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await h.close();
  });

  it("streams an exec for an admin who authenticates with the first message", async () => {
    const c = await execWith(`/v1/admin/capsules/${platformCapsule}/exec/stream`, admin.token);
    assert.deepEqual(c.msgs, [
      { type: "start", pid: 42 },
      { type: "stdout", data: "from-admin\n" },
      { type: "exit", exit_code: 0 },
    ]);
  });

  it("refuses a non-admin's token with forbidden", async () => {
    const c = await execWith(`/v1/admin/capsules/${platformCapsule}/exec/stream`, user.token);
    assert.deepEqual(
      c.msgs.map((m) => [m.type, m.code]),
      [["error", "forbidden"]],
    );
  });

  it("refuses API keys, even an admin team's, and bad tokens with unauthorized", async () => {
    const adminKey = await h.apiKey(admin);
    for (const token of [adminKey, "not-a-jwt"]) {
      const c = await execWith(`/v1/admin/capsules/${platformCapsule}/exec/stream`, token);
      assert.deepEqual(
        c.msgs.map((m) => [m.type, m.code]),
        [["error", "unauthorized"]],
      );
    }
  });

  it("ignores header credentials: the first message must authenticate", async () => {
    const c = await open(`/v1/admin/capsules/${platformCapsule}/exec/stream`, {
      authorization: `Bearer ${admin.token}`,
    });
    c.send({ type: "start", cmd: "echo", args: ["x"] });
    await c.until((x) => x.closed, "close");
    assert.equal(c.msgs[0]?.type, "error");
    assert.ok(!c.msgs.some((m) => m.type === "stdout"));
  });

  it("reaches platform capsules only (a team's capsule is not found)", async () => {
    const c = await execWith(`/v1/admin/capsules/${teamCapsule}/exec/stream`, admin.token);
    assert.deepEqual(
      c.msgs.map((m) => [m.type, m.code]),
      [["error", "not_found"]],
    );
  });

  it("opens a terminal and attaches to a background process", async () => {
    const pty = await open(`/v1/admin/capsules/${platformCapsule}/pty`);
    pty.send({ type: "auth", token: admin.token });
    pty.send({ type: "start", cmd: "/bin/bash" });
    await pty.until((x) => x.msgs.some((m) => m.type === "started"), "started");
    pty.ws.close();

    const bg = await h.req(
      "POST",
      `/v1/admin/capsules/${platformCapsule}/exec`,
      { jwt: admin.token },
      { cmd: "echo", args: ["bg"], background: true, tag: "echoer" },
    );
    assert.equal(bg.status, 202, bg.body);
    const attach = await open(`/v1/admin/capsules/${platformCapsule}/processes/echoer/stream`);
    attach.send({ type: "auth", token: admin.token });
    await attach.until((x) => x.msgs.length > 0, "an event");
    assert.notEqual(attach.msgs[0]?.type, "error", JSON.stringify(attach.msgs));

    const denied = await open(`/v1/admin/capsules/${platformCapsule}/pty`);
    denied.send({ type: "auth", token: user.token });
    await denied.until((x) => x.closed, "close");
    assert.equal(denied.msgs[0]?.code, "forbidden");
  });
});
