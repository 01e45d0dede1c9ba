/**
 * The end-to-end harness for the SDK and CLI tests: a real stack (control plane + host agent + QEMU VMs) in a
 * temporary data directory, sharing the built kernels and images of `/var/lib/wrenn`, torn down completely.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalStack, startLocalStack } from "../up/local-stack.ts";

/** Where the built images live. */
export const SHARED_FILES_ROOT = process.env.AGENT_FILES_ROOTDIR || "/var/lib/wrenn";

/** Why the VM tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  const rootfs = join(SHARED_FILES_ROOT, "images", "minimal", "rootfs.ext4");
  if (!existsSync(rootfs)) return `no guest image at ${rootfs}: build it with \`npm run images\` (as root)`;
  if (process.getuid?.() !== 0) return "needs root (QEMU and the agent's files)";
  return undefined;
}

/** A stack owned by one test file. */
export interface TestStack extends LocalStack {
  /** Scratch directory removed at teardown (the data dir and files root live inside). */
  scratchDir: string;
  /** Stops everything and removes the scratch directory. */
  teardown(): Promise<void>;
}

/** Starts a stack on free ports in a fresh scratch directory. */
export async function startTestStack(
  options: { databaseUrl?: string; cpEnv?: Record<string, string>; agentEnv?: Record<string, string> } = {},
): Promise<TestStack> {
  const scratchDir = mkdtempSync(join(tmpdir(), "wrenn-e2e-"));
  const filesRootDir = join(scratchDir, "files");
  try {
    const stack = await startLocalStack({
      dataDir: join(scratchDir, "data"),
      filesRootDir,
      sharedImagesDir: SHARED_FILES_ROOT,
      cpPort: 0,
      agentPort: 0,
      databaseUrl: options.databaseUrl,
      cpEnv: { LOG_LEVEL: "info", ...options.cpEnv },
      agentEnv: { AGENT_POOL_SIZE: "1", LOG_LEVEL: "info", ...options.agentEnv },
    });
    return {
      ...stack,
      scratchDir,
      teardown: async () => {
        try {
          await stack.stop();
        } finally {
          killLeftoverVms(filesRootDir);
          rmSync(scratchDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    killLeftoverVms(filesRootDir);
    rmSync(scratchDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Safety net after the agent stopped: SIGKILLs QEMU processes whose command line points into this stack's own
 * files root (only VMs this stack started can match a fresh temporary path).
 */
export function killLeftoverVms(filesRootDir: string): number {
  let killed = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.includes("qemu-system") && cmdline.includes(filesRootDir)) {
      try {
        process.kill(Number(entry), "SIGKILL");
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

/** What `stackApi` calls answer: the status and the decoded JSON body (undefined when empty). */
// biome-ignore lint/suspicious/noExplicitAny: test convenience (JSON bodies of many shapes).
export type ApiAnswer = { status: number; json: any };

/** A REST caller for `stack()` with its API key (a getter: test files start the stack in `before`). */
export function stackApi(stack: () => TestStack, timeoutMs = 600_000) {
  return async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const s = stack();
    const res = await fetch(`${s.baseUrl}${path}`, {
      method,
      headers: { "x-api-key": s.apiKey, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}

/** A REST caller as `stackApi` returns (or one with other credentials). */
export type StackCall = (method: string, path: string, body?: unknown) => Promise<ApiAnswer>;

/**
 * Runs `cmd` under /bin/sh in the foreground through `POST {capsulePath}/exec` (a team or an admin capsule route)
 * and returns its trimmed stdout, asserting the call succeeded and the command exited 0.
 */
export async function execSh(call: StackCall, capsulePath: string, cmd: string): Promise<string> {
  const r = await call("POST", `${capsulePath}/exec`, { cmd: "/bin/sh", args: ["-c", cmd], timeout_sec: 60 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.exit_code, 0, `${cmd}: ${r.json.stderr}`);
  return String(r.json.stdout).trim();
}

/** Polls `read` every `everyMs` until `ok` holds and returns that value; fails with the last one after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  assert.fail(`${what}: still ${JSON.stringify(last)} after ${timeoutMs / 1000} s`);
}
