import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { process as pb } from "@wrenn/protocol";
import { runToEnd } from "./testing/envd-harness.ts";
import { EnvdProcess } from "./testing/envd-process.ts";

const main = join(dirname(fileURLToPath(import.meta.url)), "main.ts");

describe("envd command line", () => {
  let root: string;
  let envd: EnvdProcess;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "envd-main-"));
    envd = await EnvdProcess.start(process.execPath, [
      "--import",
      "tsx",
      main,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--dev",
      "--root",
      root,
      "--cmd",
      "echo started > init-cmd.txt; sleep 30",
    ]);
  });
  after(async () => {
    await envd?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("serves /health and runs processes in --dev mode with --root as the home", async () => {
    const res = await fetch(`http://127.0.0.1:${envd.port}/health`);
    assert.equal(res.status, 200);
    const client = createClient(
      pb.Process,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${envd.port}`, httpVersion: "1.1" }),
    );
    const r = await runToEnd(client.start({ process: { cmd: "pwd" } }));
    assert.equal(r.stdout, `${root}\n`);
    const list = await client.list({});
    assert.ok(
      list.processes.some((p) => p.tag === "init-cmd"),
      "--cmd runs with tag init-cmd",
    );
  });

  it("exits 2 with the usage on bad flags", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", main, "--port", "nope"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: envd/);
    const r2 = spawnSync(process.execPath, ["--import", "tsx", main, "--root", "/tmp"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r2.status, 2);
  });

  it("stops on SIGTERM with exit code 0", async () => {
    assert.equal(await envd.stop(), 0);
  });
});
