import assert from "node:assert/strict";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { EnvdHarness } from "../../../envd/src/testing/envd-harness.ts";
import { AgentError } from "../errors.ts";
import { EnvdClient } from "./envd-client.ts";
import { execInGuest } from "./exec.ts";

const H2_PREFACE = "PRI * HTTP/2.0";

/** A TCP forwarder in front of envd that counts the connections it carries, by HTTP version. */
async function countingForwarder(targetPort: number) {
  const seen = { h1: 0, h2: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.once("data", (first: Buffer) => {
      seen[first.toString("latin1").startsWith(H2_PREFACE) ? "h2" : "h1"]++;
      const upstream = net.connect(targetPort, "127.0.0.1");
      sockets.add(upstream);
      upstream.once("close", () => sockets.delete(upstream));
      upstream.write(first);
      client.pipe(upstream).pipe(client);
      for (const s of [client, upstream]) s.on("error", () => (s === client ? upstream : client).destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    seen,
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe("execInGuest over the agent's envd client", () => {
  let envd: EnvdHarness;
  let forwarder: Awaited<ReturnType<typeof countingForwarder>>;
  let client: EnvdClient;

  before(async () => {
    envd = await EnvdHarness.start();
    forwarder = await countingForwarder(envd.port);
    client = new EnvdClient(forwarder.port);
  });
  after(async () => {
    client.close();
    forwarder.close();
    await envd.close();
  });

  it("runs commands one after another on pooled HTTP/1.1 connections it gets back after each", async () => {
    for (let i = 0; i < 20; i++) {
      const r = await execInGuest(client, "sh", {
        args: ["-c", `echo n=${i}; echo e=${i} >&2; exit ${i % 3}`],
        timeoutMs: 10_000,
      });
      assert.equal(r.stdout.toString(), `n=${i}\n`);
      assert.equal(r.stderr.toString(), `e=${i}\n`);
      assert.equal(r.exitCode, i % 3);
    }
    // A connection is given back once its stream has been read to the end, just after the answer, so a command that
    // starts in that instant may open another (up to the pool's 4). Connections never given back would fill the
    // pool and send later commands over HTTP/2.
    assert.equal(forwarder.seen.h2, 0, "no command had to fall back to HTTP/2");
    assert.ok(forwarder.seen.h1 <= 4, `${forwarder.seen.h1} HTTP/1.1 connections for 20 commands`);
  });

  it("gives the connection of a command that timed out back too", async () => {
    await assert.rejects(
      execInGuest(client, "sleep", { args: ["10"], timeoutMs: 300 }),
      (e) => e instanceof AgentError && e.code === "timeout",
    );
    const before = { ...forwarder.seen };
    for (let i = 0; i < 10; i++) {
      assert.equal((await execInGuest(client, "true", { timeoutMs: 10_000 })).exitCode, 0);
    }
    assert.equal(forwarder.seen.h2, before.h2, "still no fallback to HTTP/2");
    assert.ok(forwarder.seen.h1 <= 4, "the cut connection is replaced, not leaked");
  });
});
