/**
 * Losing a host and getting it back, through the real control plane, a real host agent and a real VM:
 * killing the agent makes its host `unreachable` and its capsules `missing` within the heartbeat timeout
 * (plus one host-monitor pass); restarting the agent brings both back, with the VM untouched.
 * The stack runs with short intervals (heartbeat 3 s, timeout 15 s, monitor 3 s) instead of the defaults
 * (30 s, 90 s, 15 s): the same code paths, a minute and a half sooner.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { skipReason, startTestStack, type TestStack } from "../../apps/cli/src/testing/e2e-stack.ts";
import "../../apps/cli/src/source-condition.ts";

const { Capsule } = await import("wrenn");

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const HEARTBEAT = { AGENT_HEARTBEAT_INTERVAL_SEC: "3" };
const CP_TIMING = { CP_HEARTBEAT_TIMEOUT_SEC: "15", CP_HOST_MONITOR_INTERVAL_SEC: "3" };
const skip = skipReason();
let stack: TestStack;
let restarted: ChildProcess | undefined;

before(
  async () => {
    if (!skip) stack = await startTestStack({ cpEnv: CP_TIMING, agentEnv: HEARTBEAT });
  },
  { timeout: 1_200_000 },
);

after(async () => {
  restarted?.kill("SIGTERM");
  await stack?.teardown();
});

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${stack.jwt}` } });
  const body = await res.text();
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${body}`);
  return JSON.parse(body) as T;
}

/** Polls `read` until it returns `want`; fails with the last value after the deadline. */
async function until<T>(what: string, read: () => Promise<T>, want: T, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last: T | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await read();
    if (last === want) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 2000));
  }
  assert.fail(`${what}: still ${String(last)} after ${timeoutMs / 1000} s (wanted ${String(want)})`);
}

describe("a host that stops heartbeating", { skip }, () => {
  it("goes unreachable with its capsules missing, and comes back with the same VM", { timeout: 900_000 }, async () => {
    const conn = { apiKey: stack.apiKey, baseUrl: stack.baseUrl };
    const capsule = await Capsule.create({ ...conn, template: "minimal" });
    const marker = `alive-${Date.now()}`;
    await capsule.files.write("/root/marker.txt", marker);
    const bootId = (await capsule.commands.run("cat", { args: ["/proc/sys/kernel/random/boot_id"] })).stdout;

    const hostStatus = async () => (await api<{ status: string }>(`/v1/hosts/${stack.hostId}`)).status;
    const capsuleStatus = async () => (await api<{ status: string }>(`/v1/capsules/${capsule.id}`)).status;
    assert.equal(await hostStatus(), "online");

    // SIGKILL: no goodbye to the control plane. The VM keeps running (QEMU is in its own process group).
    process.kill(stack.agent.pid, "SIGKILL");
    // 15 s without a heartbeat, plus up to one 3 s monitor pass, plus slack for a loaded machine.
    const downAfterMs = await until("host status", hostStatus, "unreachable", 60_000);
    assert.equal(await capsuleStatus(), "missing");
    console.log(`host unreachable ${(downAfterMs / 1000).toFixed(0)} s after the agent was killed`);

    // Restart the agent with its saved credentials (no --register): it re-adopts the running VM.
    const log = openSync(join(stack.scratchDir, "agent-restarted.log"), "a");
    restarted = spawn(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "apps/host-agent/src/main.ts"), "--address", stack.agentAddress],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", log, log],
        env: {
          ...process.env,
          AGENT_CP_URL: stack.baseUrl,
          AGENT_LISTEN_ADDR: stack.agentAddress,
          AGENT_FILES_ROOTDIR: stack.filesRootDir,
          AGENT_POOL_SIZE: "1",
          ...HEARTBEAT,
        },
      },
    );
    await until("host status after restart", hostStatus, "online", 180_000);
    await until("capsule status after restart", capsuleStatus, "running", 120_000);

    // Same VM: same boot id, and the file written before the agent died is still there.
    const again = await Capsule.connect(capsule.id, conn);
    assert.equal((await again.commands.run("cat", { args: ["/proc/sys/kernel/random/boot_id"] })).stdout, bootId);
    assert.equal(await again.files.read("/root/marker.txt"), marker);
    await again.destroy();
  });
});
