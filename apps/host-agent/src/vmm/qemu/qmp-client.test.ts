import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError } from "../../errors.ts";
import { QmpClient, type QmpEvent } from "./qmp-client.ts";

const servers = new Set<Server>();
const sockets = new Set<Socket>();

/** A fake QMP server: greets, answers by script, records what it got. */
function fakeQmp(path: string, answer: (cmd: { execute: string; id: number }, sock: Socket) => void) {
  const received: string[] = [];
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        received.push(cmd.execute);
        answer(cmd, sock);
      }
    });
  });
  servers.add(server);
  return new Promise<{ server: Server; received: string[] }>((resolve) =>
    server.listen(path, () => resolve({ server, received })),
  );
}

describe("QmpClient", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qmp-test-"));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("negotiates capabilities, matches answers by id and delivers events", async () => {
    const path = join(dir, "a.sock");
    const { server, received } = await fakeQmp(path, (cmd, sock) => {
      if (cmd.execute === "query-status") {
        // Answer out of order with an event in between: the client must match by id.
        sock.write('{"event": "STOP", "data": {}, "timestamp": {}}\n');
        sock.write(`${JSON.stringify({ return: { status: "paused" }, id: cmd.id })}\n`);
      } else sock.write(`${JSON.stringify({ return: {}, id: cmd.id })}\n`);
    });
    const qmp = await QmpClient.connect(path, 2000);
    const events: QmpEvent[] = [];
    qmp.on("event", (e: QmpEvent) => events.push(e));
    const status = await qmp.execute<{ status: string }>("query-status");
    assert.equal(status.status, "paused");
    assert.deepEqual(received, ["qmp_capabilities", "query-status"]);
    assert.equal(events[0]?.event, "STOP");
    qmp.close();
    server.close();
  });

  it("rejects with QEMU's error description", async () => {
    const path = join(dir, "b.sock");
    const { server } = await fakeQmp(path, (cmd, sock) => {
      const msg =
        cmd.execute === "cont"
          ? { error: { class: "GenericError", desc: "Migration is not finished yet" }, id: cmd.id }
          : { return: {}, id: cmd.id };
      sock.write(`${JSON.stringify(msg)}\n`);
    });
    const qmp = await QmpClient.connect(path, 2000);
    await assert.rejects(qmp.execute("cont"), /Migration is not finished yet/);
    qmp.close();
    server.close();
  });

  it("times out a command that gets no answer and fails pending commands when the VM goes away", async () => {
    const path = join(dir, "c.sock");
    let peer: Socket | undefined;
    const { server } = await fakeQmp(path, (cmd, sock) => {
      peer = sock;
      if (cmd.execute === "qmp_capabilities") sock.write(`${JSON.stringify({ return: {}, id: cmd.id })}\n`);
    });
    const qmp = await QmpClient.connect(path, 2000);
    await assert.rejects(qmp.execute("query-migrate", undefined, 100), (e: unknown) => {
      return e instanceof AgentError && e.code === "timeout";
    });
    const pending = qmp.execute("stop", undefined, 5000);
    peer?.destroy();
    await assert.rejects(pending, (e: unknown) => e instanceof AgentError && e.code === "unavailable");
    assert.equal(qmp.isClosed, true);
    server.close();
  });

  it("fails to connect within the deadline when nothing listens", async () => {
    await assert.rejects(QmpClient.connect(join(dir, "none.sock"), 200));
  });
});
