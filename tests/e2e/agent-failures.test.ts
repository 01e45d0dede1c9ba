/**
 * wrenn-agent failure paths through real QEMU: a missing image, a corrupt image, a QEMU that exits early and a guest
 * that never becomes ready each give a clear error within a bounded time and leave no process, folder or port.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, IMAGES_ROOT, processesMentioning, vmSkipReason } from "./agent-harness/vm-host.ts";

const skip = vmSkipReason();
const KEY = "e2e-failure-key";

/** A root with kernels linked, the real `minimal` image linked and a `broken` image of random bytes. */
async function failureRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "wrenn-agent-fail-"));
  await symlink(join(IMAGES_ROOT, "kernels"), join(root, "kernels"));
  await mkdir(join(root, "images", "broken"), { recursive: true });
  await symlink(join(IMAGES_ROOT, "images", "minimal"), join(root, "images", "minimal"));
  await writeFile(join(root, "images", "broken", "rootfs.ext4"), randomBytes(8 * 1024 * 1024));
  return root;
}

/** Asserts nothing of a failed create remains: no VM process, no sandbox or template folder. */
async function assertNothingLeft(root: string): Promise<void> {
  assert.deepEqual(await processesMentioning(join(root, "/")), [], "no QEMU process left");
  assert.deepEqual(readdirSync(join(root, "sandboxes")), [], "no sandbox folder left");
  assert.deepEqual(readdirSync(join(root, "templates")), [], "no half-built template left");
}

/** Runs a create expected to fail; returns the error and how long it took. */
async function failingCreate(agent: AgentProcess, template: string, timeoutMs: number) {
  const started = Date.now();
  const err = await agent.client
    .createCapsule({ capsuleId: `cl-fail-${randomBytes(3).toString("hex")}`, template }, { timeoutMs })
    .then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
  assert.ok(err, "create must fail");
  return { err, ms: Date.now() - started };
}

describe("wrenn-agent failure paths", { skip, timeout: 600_000 }, () => {
  const roots: string[] = [];
  const agents: AgentProcess[] = [];
  after(async () => {
    for (const a of agents) await a.kill();
    for (const r of roots) await cleanupRoot(r);
  });

  const start = async (env: Record<string, string>) => {
    const root = await failureRoot();
    roots.push(root);
    const agent = await AgentProcess.start({
      rootDir: root,
      agentKey: KEY,
      logFile: join(root, "agent.log"),
      env: {
        AGENT_PREWARM_TEMPLATES: "",
        AGENT_POOL_SIZE: "0",
        AGENT_ACCEL: "tcg",
        AGENT_BOOT_TIMEOUT_SEC: "60",
        ...env,
      },
    });
    agents.push(agent);
    return { root, agent };
  };

  it("reports a missing image at once and says how to build it", async () => {
    const { root, agent } = await start({});
    const { err, ms } = await failingCreate(agent, "nosuchimage", 30_000);
    assert.match(err.rawMessage, /no image at .*nosuchimage.*npm run images/);
    assert.equal(err.code, 9 /* FailedPrecondition */);
    assert.ok(ms < 10_000, `answered in ${ms} ms`);
    await assertNothingLeft(root);
  });

  it("reports a corrupt image when its guest dies, and cleans up", async () => {
    const { root, agent } = await start({});
    const { err, ms } = await failingCreate(agent, "broken", 120_000);
    assert.match(err.rawMessage, /template broken-1c-256m: .*(exited|did not answer)/);
    assert.ok(ms < 90_000, `answered in ${ms} ms`);
    await assertNothingLeft(root);
  });

  it("reports a QEMU that exits at start with its own words", async () => {
    const bin = join(await mkdtemp(join(tmpdir(), "wrenn-fake-qemu-")), "qemu");
    roots.push(join(bin, ".."));
    // Answers --version like QEMU, then fails the way a bad flag does.
    await writeFile(
      bin,
      '#!/bin/sh\nif [ "$1" = "--version" ]; then exec qemu-system-x86_64 --version; fi\n' +
        'echo "qemu-system-x86_64: -bogus: invalid option" >&2\nexit 1\n',
    );
    await chmod(bin, 0o755);
    const { root, agent } = await start({ AGENT_QEMU_BIN: bin });
    const { err, ms } = await failingCreate(agent, "minimal", 60_000);
    assert.match(err.rawMessage, /exited early \(exit code 1\): qemu-system-x86_64: -bogus: invalid option/);
    assert.ok(ms < 30_000, `answered in ${ms} ms`);
    await assertNothingLeft(root);
  });

  it("reports a guest that never becomes ready (no init) within the boot deadline", async () => {
    const { root, agent } = await start({
      AGENT_KERNEL_ARGS: "init=/sbin/does-not-exist",
      AGENT_BOOT_TIMEOUT_SEC: "45",
    });
    const { err, ms } = await failingCreate(agent, "minimal", 120_000);
    assert.match(err.rawMessage, /template minimal-1c-256m: .*guest agent did not answer/);
    assert.ok(ms < 90_000, `answered in ${ms} ms`);
    await assertNothingLeft(root);
    assert.equal(existsSync(join(root, "templates", "minimal-1c-256m")), false);
    assert.deepEqual(await readdir(join(root, "sandboxes")), []);
  });
});
