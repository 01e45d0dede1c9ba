/**
 * Helpers of the persistent-capsule end-to-end tests (persist-*.test.ts): one real agent on a temp root, commands
 * in a capsule, and checks that a capsule left nothing behind (no QEMU, no folder).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AgentProcess } from "./agent-harness/agent-process.ts";
import { makeTestRoot, processesMentioning } from "./agent-harness/vm-host.ts";

/** RPC deadlines: the first create cold-boots the template under TCG. */
export const FIRST_CREATE_MS = 300_000;
export const OP_MS = 120_000;

export const KEY = "e2e-persist-key";

/** Starts an agent on `root` (a fresh test root when omitted) with a pool of one. */
export async function startAgent(root?: string, env: Record<string, string> = {}) {
  const dir = root ?? (await makeTestRoot("wrenn-persist-"));
  const agent = await AgentProcess.start({
    rootDir: dir,
    agentKey: KEY,
    logFile: join(dir, "agent.log"),
    env: { AGENT_POOL_SIZE: "1", AGENT_PREWARM_TEMPLATES: "", ...env },
  });
  return { root: dir, agent };
}

/** Runs a shell command in the capsule; asserts exit 0 and returns trimmed stdout. */
export async function sh(agent: AgentProcess, capsuleId: string, cmd: string): Promise<string> {
  const r = await agent.client.exec({ capsuleId, cmd, timeoutSec: 60 }, { timeoutMs: OP_MS });
  const out = Buffer.from(r.stdout).toString("utf8").trim();
  assert.equal(r.exitCode, 0, `\`${cmd}\` exited ${r.exitCode}: ${Buffer.from(r.stderr).toString("utf8")}`);
  return out;
}

/** Asserts no QEMU runs for the capsule and neither of its folders exists. */
export async function assertGone(root: string, capsuleId: string): Promise<void> {
  for (const dir of [join(root, "sandboxes", capsuleId), join(root, "snapshots", capsuleId)]) {
    assert.equal(existsSync(dir), false, `${dir} removed`);
    assert.deepEqual(await processesMentioning(`${dir}/`), [], `no process uses ${dir}`);
  }
}

/** The envd access token the agent keeps for a running capsule. */
export async function capsuleToken(root: string, capsuleId: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const record = JSON.parse(await readFile(join(root, "sandboxes", capsuleId, "capsule.json"), "utf8"));
  return record.accessToken as string;
}
