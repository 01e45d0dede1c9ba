/**
 * wrenn-agent end to end through real QEMU microVMs (TCG here): three capsules from `minimal` run commands in their
 * own kernel, read different random bytes, and leave nothing behind when destroyed; capsules survive an agent crash.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, isAlive, isListening, makeTestRoot, vmSkipReason, waitFor } from "./agent-harness/vm-host.ts";

const skip = vmSkipReason();
const KEY = "e2e-agent-key";
const CREATE_TIMEOUT_MS = 240_000; // includes the first cold boot of the template under TCG

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8").trim();

describe("wrenn-agent with real microVMs", { skip, timeout: 900_000 }, () => {
  let root: string;
  let agent: AgentProcess;

  before(async () => {
    root = await makeTestRoot();
    agent = await AgentProcess.start({
      rootDir: root,
      agentKey: KEY,
      logFile: join(root, "agent.log"),
      env: { AGENT_POOL_SIZE: "1", AGENT_PREWARM_TEMPLATES: "minimal" },
    });
  });

  after(async () => {
    await agent?.kill();
    if (root) await cleanupRoot(root);
  });

  it("rejects calls without the agent key", async () => {
    const { createClient } = await import("@connectrpc/connect");
    const { createConnectTransport } = await import("@connectrpc/connect-node");
    const { hostagent } = await import("@wrenn/protocol");
    const anon = createClient(
      hostagent.HostAgentService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${agent.port}`, httpVersion: "2" }),
    );
    await assert.rejects(anon.listCapsules({}), /Authorization/);
  });

  it("runs three capsules with their own kernel and entropy, then destroys them without leftovers", async () => {
    const ids = ["cl-e2e-one", "cl-e2e-two", "cl-e2e-three"];
    const created = [];
    for (const id of ids) {
      const res = await agent.client.createCapsule(
        { capsuleId: id, teamId: "team-e2e", template: "minimal", vcpus: 1, memoryMb: 256 },
        { timeoutMs: CREATE_TIMEOUT_MS },
      );
      assert.equal(res.capsule?.capsuleId, id);
      assert.match(res.capsule?.hostIp ?? "", /^127\.0\.0\.1:\d+$/);
      created.push(res.capsule);
    }
    const randoms = new Set<string>();
    for (const id of ids) {
      const uname = await agent.client.exec({ capsuleId: id, cmd: "uname", args: ["-r"] }, { timeoutMs: 60_000 });
      assert.equal(uname.exitCode, 0);
      assert.notEqual(text(uname.stdout), release(), "the guest runs its own kernel");
      assert.match(text(uname.stdout), /^\d+\.\d+/);
      const py = await agent.client.exec(
        { capsuleId: id, cmd: "python3", args: ["-c", "print(6*7)"] },
        { timeoutMs: 60_000 },
      );
      assert.equal(py.exitCode, 0, text(py.stderr));
      assert.equal(text(py.stdout), "42");
      const rnd = await agent.client.exec(
        { capsuleId: id, cmd: "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'" },
        { timeoutMs: 60_000 },
      );
      assert.equal(rnd.exitCode, 0, text(rnd.stderr));
      assert.equal(text(rnd.stdout).length, 64);
      randoms.add(text(rnd.stdout));
    }
    assert.equal(randoms.size, 3, "every clone reads different bytes from /dev/urandom");

    const listed = await agent.client.listCapsules({});
    assert.deepEqual(listed.capsules.map((c) => c.capsuleId).sort(), [...ids].sort());

    for (const c of created) {
      const id = c?.capsuleId ?? "";
      const port = Number(c?.hostIp.split(":")[1]);
      const dir = join(root, "sandboxes", id);
      const { pid } = JSON.parse(readFileSync(join(dir, "capsule.json"), "utf8")) as { pid: number };
      assert.equal(isAlive(pid), true, "the capsule's QEMU runs");
      assert.equal(await isListening(port), true, "its envd port is forwarded");
      await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: 30_000 });
      assert.equal(existsSync(dir), false, `${dir} removed`);
      assert.equal(isAlive(pid), false, `QEMU ${pid} gone`);
      assert.equal(await waitFor(async () => !(await isListening(port)), 5000), true, `port ${port} closed`);
    }
    const left = await agent.client.listCapsules({});
    assert.equal(left.capsules.length, 0);
    // Every QEMU still running under this root belongs to the clone pool, none to a destroyed capsule.
    await assert.rejects(agent.client.destroyCapsule({ capsuleId: ids[0] }), /not on this host/);
  });

  it("keeps both capsules when the agent crashes and restarts", async () => {
    const ids = ["cl-e2e-keep-a", "cl-e2e-keep-b"];
    for (const id of ids) {
      await agent.client.createCapsule({ capsuleId: id, template: "minimal" }, { timeoutMs: CREATE_TIMEOUT_MS });
      const r = await agent.client.exec({ capsuleId: id, cmd: "echo before > /tmp/marker" }, { timeoutMs: 60_000 });
      assert.equal(r.exitCode, 0);
    }
    await agent.kill();
    agent = await AgentProcess.start({
      rootDir: root,
      agentKey: KEY,
      logFile: join(root, "agent.log"),
      env: { AGENT_POOL_SIZE: "1", AGENT_PREWARM_TEMPLATES: "" },
    });
    const listed = await agent.client.listCapsules({});
    assert.deepEqual(listed.capsules.map((c) => c.capsuleId).sort(), [...ids].sort());
    for (const id of ids) {
      const r = await agent.client.exec({ capsuleId: id, cmd: "cat /tmp/marker" }, { timeoutMs: 60_000 });
      assert.equal(text(r.stdout), "before", "the same VM answers, with its state");
      const { pid } = JSON.parse(readFileSync(join(root, "sandboxes", id, "capsule.json"), "utf8")) as { pid: number };
      await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: 30_000 });
      assert.equal(isAlive(pid), false, `QEMU ${pid} gone`);
    }
    // Pooled clones of the crashed agent were cleaned up at start: nothing but the restarted agent's own VMs remain.
    const sandboxes = readdirSync(join(root, "sandboxes"));
    assert.ok(
      sandboxes.every((d) => d.startsWith("pool-")),
      `only pooled clones remain: ${sandboxes.join(", ")}`,
    );
  });
});
