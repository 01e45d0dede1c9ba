/**
 * Pause and resume that fail midway, through the real agent and QEMU (faults injected with AGENT_FAILPOINTS):
 * a pause that fails after the VM was stopped and saved leaves the capsule running and usable; a resume that fails
 * after the guest ran leaves it paused, consistent, and resumable by the next agent.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import type { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, vmSkipReason } from "./agent-harness/vm-host.ts";
import { assertGone, FIRST_CREATE_MS, OP_MS, sh, startAgent } from "./persist-harness.ts";

const skip = vmSkipReason();

describe("pause and resume failures", { skip, timeout: 1_200_000 }, () => {
  let root: string | undefined;
  let agent: AgentProcess | undefined;
  after(async () => {
    await agent?.kill();
    if (root) await cleanupRoot(root);
  });

  it("keeps a capsule running when its pause fails after the VM stopped, and paused when a resume fails", async () => {
    ({ root, agent } = await startAgent(undefined, { AGENT_FAILPOINTS: "pause-after-save" }));
    const id = "cl-fail-pause";
    await agent.client.createCapsule({ capsuleId: id, template: "minimal" }, { timeoutMs: FIRST_CREATE_MS });
    await sh(agent, id, "echo 1 > /root/step");
    const err = await agent.client.pauseCapsule({ capsuleId: id }, { timeoutMs: OP_MS }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err?.code, Code.Internal, "the failed pause is reported");
    assert.match(err?.message ?? "", /keeps running/);
    const listed = (await agent.client.listCapsules({})).capsules.find((c) => c.capsuleId === id);
    assert.equal(listed?.status, hostagent.CapsuleStatus.RUNNING);
    assert.equal(await sh(agent, id, "cat /root/step && echo 2 > /root/step && cat /root/step"), "1\n2");
    assert.equal(existsSync(join(root, "snapshots", id)), false, "no half-written pause state left");

    // A normal agent pauses it; an agent whose resumes fail after the guest ran keeps it paused.
    await agent.kill();
    ({ agent } = await startAgent(root));
    await agent.client.pauseCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    await agent.kill();
    ({ agent } = await startAgent(root, { AGENT_FAILPOINTS: "resume-after-start" }));
    const resumeErr = await agent.client.resumeCapsule({ capsuleId: id }, { timeoutMs: OP_MS }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    assert.ok(resumeErr, "the resume fails");
    assert.match(resumeErr.message, /stays paused/);
    const after = (await agent.client.listCapsules({})).capsules.find((c) => c.capsuleId === id);
    assert.equal(after?.status, hostagent.CapsuleStatus.PAUSED);
    assert.equal(existsSync(join(root, "sandboxes", id)), false, "no VM folder left by the failed resume");

    await agent.kill();
    ({ agent } = await startAgent(root));
    await agent.client.resumeCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    assert.equal(await sh(agent, id, "cat /root/step"), "2", "the capsule resumes with its files");
    await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    await assertGone(root, id);
  });
});
