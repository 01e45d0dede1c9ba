/**
 * Snapshots that become team templates, end to end through the real agent and QEMU: capsules created from a
 * template start with its processes running (a server opened before the snapshot answers at once), differ in RNG
 * output and access token, and the template obeys the name rules (AlreadyExists, overwrite, in-use delete refused).
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import type { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, vmSkipReason, waitFor } from "./agent-harness/vm-host.ts";
import { assertGone, capsuleToken, FIRST_CREATE_MS, OP_MS, sh, startAgent } from "./persist-harness.ts";

const skip = vmSkipReason();
const TEAM = "team-tpl";
const FETCH =
  "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/hello.txt',timeout=5).read().decode())\"";

/** Status of GET /envs on a capsule's envd with `token` (401 when the token is not the capsule's). */
function envdStatus(hostIp: string, token: string): Promise<number> {
  const [host, port] = hostIp.split(":");
  return new Promise((resolve, reject) => {
    const req = request({
      host,
      port: Number(port),
      path: "/envs",
      headers: { "X-Access-Token": token },
      timeout: 30_000,
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("envd did not answer")));
    req.on("error", reject);
    req.end();
  });
}

const codeOf = (e: unknown) => ConnectError.from(e).code;

describe("snapshot templates", { skip, timeout: 1_200_000 }, () => {
  let root: string;
  let agent: AgentProcess;

  before(async () => {
    ({ root, agent } = await startAgent());
  });
  after(async () => {
    await agent?.kill();
    if (root) await cleanupRoot(root);
  });

  it("creates capsules that answer on a port opened before the snapshot, each with its own entropy and token", async () => {
    const src = "cl-tpl-source";
    await agent.client.createCapsule(
      { capsuleId: src, teamId: TEAM, template: "minimal" },
      { timeoutMs: FIRST_CREATE_MS },
    );
    await sh(agent, src, "mkdir -p /srv && echo hello-from-template > /srv/hello.txt");
    await agent.client.startBackground(
      { capsuleId: src, cmd: "python3", args: ["-m", "http.server", "8000", "--directory", "/srv"], tag: "web" },
      { timeoutMs: OP_MS },
    );
    assert.ok(
      await waitFor(async () => {
        const r = await agent.client.exec({ capsuleId: src, cmd: FETCH }, { timeoutMs: OP_MS });
        return r.exitCode === 0;
      }, 60_000),
      "the server answers in the source capsule",
    );
    const srcToken = await capsuleToken(root, src);

    const snap = await agent.client.createSnapshot({ capsuleId: src, teamId: TEAM, name: "web" }, { timeoutMs: OP_MS });
    assert.equal(snap.name, "web");
    assert.ok(snap.sizeBytes > 0n);
    assert.equal(snap.vcpus, 1);
    assert.equal(snap.memoryMb, 256);
    assert.equal(snap.capsule?.status, hostagent.CapsuleStatus.PAUSED, "the source stays paused");
    assert.equal(snap.capsule?.statusReason, "snapshot");

    const clones = ["cl-tpl-a", "cl-tpl-b"];
    const randoms = new Set<string>();
    const tokens = new Set<string>([srcToken]);
    for (const id of clones) {
      const res = await agent.client.createCapsule(
        { capsuleId: id, teamId: TEAM, template: "web" },
        { timeoutMs: OP_MS },
      );
      assert.equal(res.capsule?.template, "web");
      // No wait: the server process came with the memory.
      assert.equal(await sh(agent, id, FETCH), "hello-from-template");
      randoms.add(await sh(agent, id, "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'"));
      const token = await capsuleToken(root, id);
      tokens.add(token);
      const hostIp = res.capsule?.hostIp ?? "";
      assert.equal(await envdStatus(hostIp, token), 200, "envd accepts the clone's own token");
      assert.equal(await envdStatus(hostIp, srcToken), 401, "envd refuses the source capsule's token");
    }
    assert.equal(randoms.size, 2, "clones of one template read different random bytes");

    // A clone's RAM is a copy-on-write view of the template's file: pausing it writes that view, changes included.
    await sh(agent, "cl-tpl-a", "echo changed-in-clone > /srv/hello.txt");
    await agent.client.pauseCapsule({ capsuleId: "cl-tpl-a", reason: "user" }, { timeoutMs: OP_MS });
    await agent.client.resumeCapsule({ capsuleId: "cl-tpl-a" }, { timeoutMs: OP_MS });
    assert.equal(await sh(agent, "cl-tpl-a", FETCH), "changed-in-clone", "the clone's server still runs");
    assert.equal(await sh(agent, "cl-tpl-b", FETCH), "hello-from-template", "its sibling is untouched");
    assert.equal(tokens.size, 3, "every capsule has its own access token");

    await assert.rejects(
      agent.client.createSnapshot({ capsuleId: src, teamId: TEAM, name: "web" }, { timeoutMs: OP_MS }),
      (e) => codeOf(e) === Code.AlreadyExists,
    );
    await assert.rejects(
      agent.client.deleteSnapshot({ teamId: TEAM, name: "web" }, { timeoutMs: OP_MS }),
      (e) => codeOf(e) === Code.FailedPrecondition,
      "a template capsules still read from cannot be deleted",
    );
    for (const id of clones) {
      await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
      await assertGone(root, id);
    }
    // Overwrite from the (paused) source, then the source resumes where it was.
    const again = await agent.client.createSnapshot(
      { capsuleId: src, teamId: TEAM, name: "web", overwrite: true },
      { timeoutMs: OP_MS },
    );
    assert.equal(again.capsule?.status, hostagent.CapsuleStatus.PAUSED);
    await agent.client.resumeCapsule({ capsuleId: src }, { timeoutMs: OP_MS });
    assert.equal(await sh(agent, src, FETCH), "hello-from-template");

    await agent.client.deleteSnapshot({ teamId: TEAM, name: "web" }, { timeoutMs: OP_MS });
    await assert.rejects(
      agent.client.deleteSnapshot({ teamId: TEAM, name: "web" }, { timeoutMs: OP_MS }),
      (e) => codeOf(e) === Code.NotFound,
    );
    await assert.rejects(
      agent.client.createCapsule({ capsuleId: "cl-tpl-gone", teamId: TEAM, template: "web" }, { timeoutMs: OP_MS }),
      (e) => codeOf(e) === Code.FailedPrecondition,
      "a deleted template is no longer there to create from",
    );
    await agent.client.destroyCapsule({ capsuleId: src }, { timeoutMs: OP_MS });
    await assertGone(root, src);
  });
});
