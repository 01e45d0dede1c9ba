import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { process as pb } from "@wrenn/protocol";
import { runToEnd } from "./testing/envd-harness.ts";
import { EnvdProcess } from "./testing/envd-process.ts";

const buildScript = join(dirname(fileURLToPath(import.meta.url)), "..", "build.ts");

describe("the single-executable envd", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("builds, serves /health over HTTP/1.1 and HTTP/2, and runs a PTY from the sidecar", async () => {
    const out = await mkdtemp(join(tmpdir(), "envd-build-"));
    const root = await mkdtemp(join(tmpdir(), "envd-build-root-"));
    dirs.push(out, root);
    execFileSync(process.execPath, ["--import", "tsx", buildScript, "--out", out], {
      stdio: "ignore",
      timeout: 300_000,
    });
    assert.ok((await stat(join(out, "envd"))).size > 10_000_000);
    assert.ok((await stat(join(out, "envd-native/node_modules/@lydell/node-pty/package.json"))).isFile());
    const envd = await EnvdProcess.start(join(out, "envd"), [
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--dev",
      "--root",
      root,
    ]);
    try {
      const health = (await (await fetch(`http://127.0.0.1:${envd.port}/health`)).json()) as { version: string };
      assert.match(health.version, /^\d+\.\d+\.\d+/);
      const client = createClient(
        pb.Process,
        createConnectTransport({ baseUrl: `http://127.0.0.1:${envd.port}`, httpVersion: "2" }),
      );
      const r = await runToEnd(
        client.start({ process: { cmd: "sh", args: ["-c", "tty; stty size"] }, pty: { size: { cols: 91, rows: 23 } } }),
      );
      assert.match(r.pty, /\/dev\/pts\/\d+/);
      assert.match(r.pty, /23 91/);
      assert.equal(r.end?.exitCode, 0);
    } finally {
      await envd.stop();
    }
  });
});
