/**
 * Persistent capsules through the control plane's REST API, with a real host agent and real VMs: pause and resume
 * keep processes running and move the capsule to a new endpoint, `POST /v1/snapshots` makes a team template whose
 * capsules start with the source's server already listening, the database follows the agent's auto-pause with the
 * reason `timeout`, and templates in use cannot be deleted. (The agent's own tests cover integrity in depth:
 * tests/e2e/persist-*.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  execSh,
  pollUntil,
  skipReason,
  stackApi,
  startTestStack,
  type TestStack,
} from "../../apps/cli/src/testing/e2e-stack.ts";

const skip = skipReason();
let stack: TestStack;

before(
  async () => {
    if (!skip) stack = await startTestStack();
  },
  { timeout: 1_200_000 },
);
after(async () => {
  await stack?.teardown();
});

/** One REST call with the stack's API key; returns status and decoded body. */
const api = stackApi(() => stack, 600_000);
/** Runs a shell command in the capsule and returns its stdout (asserting exit 0). */
const sh = (id: string, cmd: string) => execSh(api, `/v1/capsules/${id}`, cmd);

const COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /root/counter; sleep 0.2; done";
const SERVER = "cd /root && echo hello-from-template > hello.txt && exec python3 -m http.server 8000";
const FETCH =
  "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/hello.txt',timeout=5).read().decode())\"";

describe("persistent capsules through the control plane", { skip, timeout: 1_800_000 }, () => {
  let source = "";
  const template = `cp-e2e-${Date.now().toString(36)}`;

  it("pauses and resumes with processes intact, a new endpoint and reasons recorded", async () => {
    const c = await api("POST", "/v1/capsules", { template: "minimal" });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    source = c.json.id;
    for (const cmd of [COUNTER, SERVER]) {
      const bg = await api("POST", `/v1/capsules/${source}/exec`, {
        cmd: "/bin/sh",
        args: ["-c", cmd],
        background: true,
      });
      assert.equal(bg.status, 202, JSON.stringify(bg.json));
    }
    await pollUntil(
      "the server",
      () => sh(source, `${FETCH} || true`),
      (v) => v === "hello-from-template",
      120_000,
    );
    const pid = await sh(source, "pgrep -f 'while :' | head -1");

    const p = await api("POST", `/v1/capsules/${source}/pause`);
    assert.equal(p.status, 200, JSON.stringify(p.json));
    assert.deepEqual([p.json.status, p.json.status_reason], ["paused", "user"]);
    const whilePaused = await api("POST", `/v1/capsules/${source}/exec`, { cmd: "true" });
    assert.equal(whilePaused.status, 409, "a paused capsule does not run commands");

    const r = await api("POST", `/v1/capsules/${source}/resume`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual([r.json.status, r.json.status_reason], ["running", "user"]);
    assert.notEqual(r.json.host_ip, c.json.host_ip, "a resumed capsule gets a new endpoint");
    assert.equal(await sh(source, "pgrep -f 'while :' | head -1"), pid, "the same process, not a restart");
    const n1 = Number(await sh(source, "cat /root/counter"));
    const n2 = await pollUntil(
      "the counter",
      async () => Number(await sh(source, "cat /root/counter")),
      (v) => v > n1,
      30_000,
    );
    assert.ok(n2 > n1);

    const m = await api("GET", `/v1/capsules/${source}/metrics?range=5m`);
    assert.equal(m.status, 200, JSON.stringify(m.json));
    assert.ok(Array.isArray(m.json.points));
  });

  it("snapshots the capsule into a team template whose capsules answer on the source's port", async () => {
    const s = await api("POST", "/v1/snapshots", { sandbox_id: source, name: template });
    assert.equal(s.status, 201, JSON.stringify(s.json));
    assert.deepEqual([s.json.name, s.json.type, s.json.platform], [template, "snapshot", false]);
    assert.ok(s.json.size_bytes > 0);
    const again = await api("POST", "/v1/snapshots", { sandbox_id: source, name: template });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, "template_name_taken");
    const src = await api("GET", `/v1/capsules/${source}`);
    assert.ok(["paused", "running"].includes(src.json.status), src.json.status);

    const clone = await api("POST", "/v1/capsules", { template, vcpus: 2, memory_mb: 1024 });
    assert.equal(clone.status, 201, JSON.stringify(clone.json));
    assert.deepEqual([clone.json.vcpus, clone.json.memory_mb], [s.json.vcpus, s.json.memory_mb]);
    assert.equal(await sh(clone.json.id, FETCH), "hello-from-template");

    const listed = await api("GET", "/v1/snapshots?type=snapshot");
    assert.ok(listed.json.some((t: { name: string }) => t.name === template));
    const inUse = await api("DELETE", `/v1/snapshots/${template}`);
    assert.equal(inUse.status, 409, "a template with capsules made from it is kept");
    assert.equal((await api("DELETE", `/v1/capsules/${clone.json.id}`)).status, 204);
    assert.equal((await api("DELETE", `/v1/snapshots/${template}`)).status, 204);
    assert.equal((await api("DELETE", "/v1/snapshots/minimal")).status, 403);
    assert.equal((await api("DELETE", `/v1/capsules/${source}`)).status, 204);
    assert.equal((await api("GET", `/v1/capsules/${source}`)).json.status, "stopped");
  });

  it("records the agent's inactivity pause with the reason timeout", async () => {
    const c = await api("POST", "/v1/capsules", { template: "minimal", timeout_sec: 5 });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    // Agent reaper (2 s) plus one host-monitor pass (15 s), with slack for a loaded machine.
    const paused = await pollUntil(
      "auto-pause",
      async () => (await api("GET", `/v1/capsules/${c.json.id}`)).json,
      (v) => v.status === "paused",
      180_000,
    );
    assert.equal(paused.status_reason, "timeout");
    const r = await api("POST", `/v1/capsules/${c.json.id}/resume`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((await api("DELETE", `/v1/capsules/${c.json.id}`)).status, 204);
  });
});
