/**
 * The `wrenn` CLI against a live local stack: `exec` streams and passes the exit code through, `--json` prints
 * parseable documents, `files put/get` move bytes, and `wrenn shell` works in a real terminal (tmux).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { skipReason, startTestStack, type TestStack } from "../../apps/cli/src/testing/e2e-stack.ts";
import { REPO_ROOT } from "../../apps/cli/src/up/stack-layout.ts";

const run = promisify(execFile);
const WRENN = join(REPO_ROOT, "apps", "cli", "bin", "wrenn.js");
const skip = skipReason();
let stack: TestStack;
let env: NodeJS.ProcessEnv;
let capsuleId = "";

/** Runs the CLI; never throws: returns the exit code and both outputs. */
async function wrenn(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [WRENN, ...args], { env, timeout: 180_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

before(
  async () => {
    if (skip) return;
    stack = await startTestStack();
    // HOME points into the scratch dir so no real config file is read or written.
    env = {
      ...process.env,
      HOME: stack.scratchDir,
      WRENN_API_KEY: stack.apiKey,
      WRENN_BASE_URL: stack.baseUrl,
      WRENN_DATA_DIR: stack.dataDir,
    };
    const r = await wrenn("--json", "capsule", "create", "--template", "minimal");
    assert.equal(r.code, 0, r.stderr);
    capsuleId = JSON.parse(r.stdout).id;
  },
  { timeout: 1_200_000 },
);

after(async () => {
  if (capsuleId) await wrenn("capsule", "destroy", capsuleId);
  await stack?.teardown();
});

describe("wrenn exec", { skip }, () => {
  it("streams output and exits 0", async () => {
    const r = await wrenn("exec", capsuleId, "--", "sh", "-c", "echo one; echo two >&2");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "one\n");
    assert.equal(r.stderr, "two\n");
  });

  it("exits with the command's exit code", async () => {
    assert.equal((await wrenn("exec", capsuleId, "--", "sh", "-c", "exit 7")).code, 7);
    assert.equal((await wrenn("exec", capsuleId, "--", "false")).code, 1);
    assert.equal((await wrenn("exec", capsuleId, "--", "exit 42")).code, 42);
  });

  it("prints a JSON result with --json and still passes the exit code", async () => {
    const r = await wrenn(
      "--json",
      "exec",
      capsuleId,
      "--env",
      "X=y z",
      "--cwd",
      "/tmp",
      "--",
      'echo "$X $(pwd)"; exit 3',
    );
    assert.equal(r.code, 3);
    const body = JSON.parse(r.stdout);
    assert.equal(body.stdout, "y z /tmp\n");
    assert.equal(body.exit_code, 3);
    assert.equal(typeof body.duration_ms, "number");
  });

  it("fails with a helpful error for an unknown capsule", async () => {
    const r = await wrenn("exec", "cl-0000000000000000000000000", "--", "true");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not found/);
    assert.match(r.stderr, /hint: .*wrenn capsule list/);
    const j = await wrenn("--json", "exec", "cl-0000000000000000000000000", "--", "true");
    assert.equal(JSON.parse(j.stderr).error.code, "not_found");
  });
});

describe("wrenn capsule and files", { skip }, () => {
  it("lists and gets capsules as JSON", async () => {
    const list = JSON.parse((await wrenn("--json", "capsule", "list")).stdout);
    assert.ok(list.some((c: { id: string }) => c.id === capsuleId));
    const one = JSON.parse((await wrenn("--json", "capsule", "get", capsuleId)).stdout);
    assert.equal(one.status, "running");
    assert.equal((await wrenn("capsule", "ping", capsuleId)).code, 0);
  });

  it("puts and gets a file byte for byte, and lists, makes and removes", async () => {
    const local = join(stack.scratchDir, "up.bin");
    const back = join(stack.scratchDir, "down.bin");
    const data = randomBytes(3 << 20);
    writeFileSync(local, data);
    assert.equal((await wrenn("files", "mkdir", capsuleId, "/root/cli")).code, 0);
    const put = await wrenn("--json", "files", "put", capsuleId, local, "/root/cli/data.bin");
    assert.equal(put.code, 0, put.stderr);
    assert.equal(JSON.parse(put.stdout).bytes, data.length);
    const ls = JSON.parse((await wrenn("--json", "files", "ls", capsuleId, "/root/cli")).stdout);
    assert.equal(ls.find((e: { name: string }) => e.name === "data.bin")?.size, data.length);
    assert.equal((await wrenn("files", "get", capsuleId, "/root/cli/data.bin", back)).code, 0);
    const hash = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    assert.equal(hash(readFileSync(back)), hash(data));
    assert.equal((await wrenn("files", "rm", capsuleId, "/root/cli")).code, 0);
    const after = JSON.parse((await wrenn("--json", "files", "ls", capsuleId, "/root")).stdout);
    assert.ok(!after.some((e: { name: string }) => e.name === "cli"));
  });

  it("lists hosts as the local admin", async () => {
    const r = await wrenn("--json", "host", "list");
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      JSON.parse(r.stdout).some((h: { id: string; status: string }) => h.id === stack.hostId && h.status === "online"),
    );
  });
});

describe("wrenn shell in a real terminal", { skip }, () => {
  const socket = `wrenn-e2e-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8", env });
  const pane = () => tmux("capture-pane", "-p", "-J", "-t", "shell", "-S", "-200");
  const waitPane = async (re: RegExp, what: string) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const text = pane();
      if (re.test(text)) return text;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}; pane:\n${text}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  after(() => {
    try {
      tmux("kill-server");
    } catch {
      // the server already exited with its last session
    }
  });

  it("runs commands, follows resizes and exits with the shell's code", async () => {
    const script = `${process.execPath} ${WRENN} shell ${capsuleId}; echo "WRENN_EXIT=$?"; sleep 600`;
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "shell", "-x", "120", "-y", "40", "sh", "-c", script);
    tmux("set-option", "-t", "shell", "window-size", "manual");
    await waitPane(/[#$] $/m, "the shell prompt");
    tmux("send-keys", "-t", "shell", "echo $((6*7))-from-tmux", "Enter");
    await waitPane(/^42-from-tmux/m, "the command output");
    tmux("send-keys", "-t", "shell", "stty size", "Enter");
    await waitPane(/^40 120$/m, "the initial size");
    tmux("resize-window", "-t", "shell", "-x", "100", "-y", "30");
    tmux("send-keys", "-t", "shell", "clear; stty size", "Enter");
    await waitPane(/^30 100$/m, "the new size after SIGWINCH");
    tmux("send-keys", "-t", "shell", "exit 3", "Enter");
    await waitPane(/WRENN_EXIT=3/, "the CLI to exit with the shell's code");
  });
});
