import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Io } from "./output.ts";

import "./source-condition.ts";

// cli.ts imports the SDK package: load it after source-condition.ts has registered its resolve hook.
const { runCli } = await import("./cli.ts");

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

const home = mkdtempSync(join(tmpdir(), "wrenn-cli-"));
const savedEnv = {
  HOME: process.env.HOME,
  WRENN_API_KEY: process.env.WRENN_API_KEY,
  WRENN_BASE_URL: process.env.WRENN_BASE_URL,
};
let server: Server;
let baseUrl = "";
const seen: { method?: string; url?: string; key?: string }[] = [];

before(async () => {
  process.env.HOME = home;
  delete process.env.WRENN_API_KEY;
  delete process.env.WRENN_BASE_URL;
  // A loopback HTTP server answering like the control plane, to check what the CLI sends and how it prints answers.
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, key: req.headers["x-api-key"] as string | undefined });
    res.setHeader("content-type", "application/json");
    if (req.url === "/v1/capsules" && req.method === "GET") {
      res.end(JSON.stringify([{ id: "cl-abc", status: "running", template: "minimal", vcpus: 1, memory_mb: 512 }]));
    } else if (req.url === "/v1/capsules/cl-missing") {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: "not_found", message: "capsule not found" } }));
    } else if (req.url === "/v1/capsules/cl-abc/pause") {
      res.statusCode = 409;
      res.end(JSON.stringify({ error: { code: "invalid_state", message: "capsule is not running" } }));
    } else {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: { code: "unauthorized", message: "invalid API key" } }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(home, { recursive: true, force: true });
});

const argv = (...a: string[]) => ["node", "wrenn", ...a];

describe("wrenn CLI", () => {
  it("says how to get an API key when none is configured", async () => {
    const io = capture();
    const code = await runCli(argv("capsule", "list"), io);
    assert.equal(code, 1);
    assert.match(io.stderr, /run `wrenn up`.*WRENN_API_KEY/);
  });

  it("prints capsules as JSON with --json and sends the API key", async () => {
    const io = capture();
    const code = await runCli(argv("--json", "--api-key", "wrn_test", "--base-url", baseUrl, "capsule", "list"), io);
    assert.equal(code, 0, io.stderr);
    const list = JSON.parse(io.stdout);
    assert.equal(list[0].id, "cl-abc");
    assert.equal(list[0].memoryMb, 512);
    assert.equal(seen.at(-1)?.key, "wrn_test");
  });

  it("prints a table without --json", async () => {
    const io = capture();
    await runCli(argv("--api-key", "wrn_test", "--base-url", baseUrl, "capsule", "list"), io);
    assert.match(io.stdout, /^ID\s+STATUS/);
    assert.match(io.stdout, /cl-abc\s+running\s+minimal/);
  });

  it("maps API errors to a message, a hint and exit code 1", async () => {
    const io = capture();
    const code = await runCli(argv("--api-key", "k", "--base-url", baseUrl, "capsule", "get", "cl-missing"), io);
    assert.equal(code, 1);
    assert.match(io.stderr, /error: capsule not found/);
    assert.match(io.stderr, /hint: .*wrenn capsule list/);
    const j = capture();
    await runCli(argv("--json", "--api-key", "k", "--base-url", baseUrl, "capsule", "pause", "cl-abc"), j);
    const body = JSON.parse(j.stderr);
    assert.equal(body.error.code, "invalid_state");
    assert.match(body.error.hint, /resume/);
  });

  it("says the key was rejected on 401", async () => {
    const io = capture();
    await runCli(argv("--api-key", "wrn_bad", "--base-url", baseUrl, "snapshot", "list"), io);
    assert.match(io.stderr, /rejected/);
  });

  it("rejects bad arguments with a usage error", async () => {
    const io = capture();
    const code = await runCli(argv("capsule", "create", "--vcpus", "zero"), io);
    assert.notEqual(code, 0);
    assert.match(io.stderr, /positive integer/);
  });
});
