/**
 * The README's quick start, as written, on a clean data directory: `make up` (foreground), then the CLI commands
 * and the TypeScript snippet from another "terminal", then Ctrl-C. A second start must reuse everything
 * (`wrenn up --detach`, then `wrenn down`). Ports, data dir, HOME and the files root point at scratch space so
 * the test never touches the machine's real stack.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { killLeftoverVms, SHARED_FILES_ROOT, skipReason } from "../../apps/cli/src/testing/e2e-stack.ts";
import { freePort } from "../../apps/cli/src/up/free-port.ts";
import { isOurProcess } from "../../apps/cli/src/up/stack-control.ts";
import { REPO_ROOT } from "../../apps/cli/src/up/stack-layout.ts";

const run = promisify(execFile);
const skip = skipReason();
const WRENN_BIN = join(REPO_ROOT, "node_modules", ".bin", "wrenn");
let scratch = "";
let env: NodeJS.ProcessEnv;
let up: ChildProcess | undefined;
let upOutput = "";

/** `npx wrenn …` as the README says; `npx --no-install` so it can never fetch a package of that name. */
async function npxWrenn(...args: string[]) {
  const [cmd, argv] = existsSync(WRENN_BIN)
    ? ["npx", ["--no-install", "wrenn", ...args]]
    : [process.execPath, [join(REPO_ROOT, "apps", "cli", "bin", "wrenn.js"), ...args]];
  return run(cmd as string, argv as string[], { cwd: REPO_ROOT, env, timeout: 180_000 });
}

async function waitForOutput(re: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(upOutput)) {
    assert.ok(up && up.exitCode === null, `make up exited early:\n${upOutput.slice(-3000)}`);
    assert.ok(Date.now() < deadline, `timed out waiting for ${re}; output so far:\n${upOutput.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  if (skip) return;
  scratch = mkdtempSync(join(tmpdir(), "wrenn-quickstart-"));
  const files = join(scratch, "files");
  mkdirSync(files);
  for (const name of ["kernels", "images"]) symlinkSync(join(SHARED_FILES_ROOT, name), join(files, name));
  env = {
    ...process.env,
    HOME: join(scratch, "home"),
    WRENN_DATA_DIR: join(scratch, "data"),
    AGENT_FILES_ROOTDIR: files,
    CP_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
    AGENT_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
    AGENT_POOL_SIZE: "1",
  };
  delete env.WRENN_API_KEY;
  delete env.WRENN_BASE_URL;
  delete env.DATABASE_URL;
});

after(async () => {
  if (up && up.exitCode === null && up.pid) {
    try {
      process.kill(-up.pid, "SIGKILL");
    } catch {
      // the process group is already gone
    }
  }
  if (scratch) {
    await run(process.execPath, [join(REPO_ROOT, "apps", "cli", "bin", "wrenn.js"), "down"], { env }).catch(() => {});
    killLeftoverVms(join(scratch, "files"));
    rmSync(scratch, { recursive: true, force: true });
  }
});

describe("README quick start", { skip }, () => {
  let baseUrl = "";

  it("command one, `make up`, starts Wrenn and runs a first capsule", { timeout: 1_800_000 }, async (t) => {
    const started = Date.now();
    up = spawn("make", ["up"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    up.stdout?.on("data", (d) => {
      upOutput += d;
    });
    up.stderr?.on("data", (d) => {
      upOutput += d;
    });
    await waitForOutput(/Press Ctrl-C to stop\./, 1_700_000);
    t.diagnostic(`make up ready after ${((Date.now() - started) / 1000).toFixed(1)} s (first start)`);
    assert.match(upOutput, /Linux capsule/);
    assert.match(upOutput, /hello from a capsule/);
    assert.match(upOutput, /admin@wrenn\.local \/ \S+/);
    const configPath = join(env.HOME as string, ".config", "wrenn", "config.json");
    assert.equal(statSync(configPath).mode & 0o777, 0o600);
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    baseUrl = config.base_url;
    assert.equal(baseUrl, `http://${env.CP_LISTEN_ADDR}`);
    assert.match(config.api_key, /^wrn_[0-9a-f]{32}$/);
    assert.equal(statSync(join(env.WRENN_DATA_DIR as string, "state.json")).mode & 0o777, 0o600);
  });

  it("the README's CLI commands work from another terminal", { timeout: 600_000 }, async () => {
    const created = await npxWrenn("capsule", "create", "--template", "minimal");
    const id = created.stdout.trim();
    assert.match(id, /^cl-[0-9a-z]+$/);
    const r = await npxWrenn("exec", id, "--", "python3", "-c", "print(6*7)");
    assert.equal(r.stdout, "42\n");
    await npxWrenn("capsule", "destroy", id);
  });

  it("the README's TypeScript snippet prints 42", { timeout: 600_000 }, async (t) => {
    if (!existsSync(join(SHARED_FILES_ROOT, "images", "python", "rootfs.ext4"))) return t.skip("no python image");
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(snippet?.includes('from "wrenn"'), "the README has a TypeScript snippet using the SDK");
    // Run it as a user in this repository would: a module next to node_modules, TypeScript through tsx.
    const dir = join(scratch, "snippet");
    mkdirSync(dir);
    symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
    writeFileSync(join(dir, "package.json"), '{"type":"module"}');
    writeFileSync(join(dir, "snippet.ts"), snippet as string);
    const r = await run(process.execPath, ["--conditions=@wrenn/source", "--import", "tsx", "snippet.ts"], {
      cwd: dir,
      env,
      timeout: 300_000,
    });
    assert.equal(r.stdout.trim(), "42");
  });

  it("Ctrl-C stops every process it started", { timeout: 180_000 }, async () => {
    const stackFile = JSON.parse(readFileSync(join(env.WRENN_DATA_DIR as string, "run", "stack.json"), "utf8"));
    assert.ok(up?.pid);
    const exited = new Promise<number | null>((r) => up?.once("exit", (code) => r(code)));
    process.kill(-up.pid, "SIGINT");
    const deadline = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 120_000).unref());
    assert.notEqual(await Promise.race([exited, deadline]), "timeout", "make up did not exit after Ctrl-C");
    // make may return while `wrenn up` is still stopping its children: give it a bounded while.
    const gone = () =>
      !isOurProcess(stackFile.control_plane_pid, "control-plane/src/main.ts") &&
      !isOurProcess(stackFile.host_agent_pid, "host-agent/src/main.ts");
    const until = Date.now() + 60_000;
    while (!gone() && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    assert.ok(gone(), "the control plane or the host agent is still running after Ctrl-C");
  });

  it("a second start reuses the database and images, detaches, and `wrenn down` stops it", {
    timeout: 900_000,
  }, async (t) => {
    const started = Date.now();
    const main = join(REPO_ROOT, "apps", "cli", "src", "main.ts");
    const r = await run(process.execPath, ["--import", "tsx", main, "up", "--detach", "--no-install"], {
      cwd: REPO_ROOT,
      env,
      timeout: 880_000,
    }).catch((e) => e);
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
    assert.match(out, /Stop it with `wrenn down`/, out.slice(-3000));
    assert.doesNotMatch(out, /creating the admin account/);
    assert.doesNotMatch(out, /shown once/);
    assert.match(out, /hello from a capsule/);
    t.diagnostic(`second wrenn up (detached) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const health = await fetch(`${baseUrl}/health`);
    assert.equal(health.status, 200);
    const down = await run(process.execPath, [join(REPO_ROOT, "apps", "cli", "bin", "wrenn.js"), "down"], { env });
    assert.match(down.stdout, /stopped .*control plane/);
    await assert.rejects(fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5000) }));
  });
});
