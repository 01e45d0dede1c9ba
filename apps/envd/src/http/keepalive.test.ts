import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { EnvdHarness } from "../testing/envd-harness.ts";

/** The kernel's timer kind of the TCP socket with these ends (/proc/net/tcp `tr`: 2 = keepalive), or undefined. */
async function timerKind(localPort: number, remotePort: number): Promise<number | undefined> {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of (await readFile("/proc/net/tcp", "utf8")).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hex(localPort)}`) && f[2]?.endsWith(`:${hex(remotePort)}`)) {
      return Number((f[5] ?? "").split(":")[0]);
    }
  }
  return undefined;
}

describe("envd connections", () => {
  let envd: EnvdHarness;
  before(async () => {
    envd = await EnvdHarness.start();
  });
  after(() => envd.close());

  it("keep TCP keepalive on, so connections whose host end vanished (pause, restore) get closed", async () => {
    const client = net.connect(envd.port, "127.0.0.1");
    try {
      await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
      // A request, so envd has accepted and sniffed the connection.
      client.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((resolve) => client.once("data", resolve));
      assert.equal(await timerKind(envd.port, client.localPort as number), 2, "envd's end runs the keepalive timer");
    } finally {
      client.destroy();
    }
  });
});
