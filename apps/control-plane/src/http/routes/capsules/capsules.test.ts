import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Harness, type TestUser } from "../../../testing/harness.ts";

describe("capsule routes", () => {
  let h: Harness;
  let admin: TestUser;
  let key: string;
  let host: Awaited<ReturnType<Harness["onlineHost"]>>;

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    host = await h.onlineHost(admin);
  });
  after(() => h.close());

  it("creates a capsule with the reference defaults and sends the agent key", async () => {
    const r = await h.req("POST", "/v1/capsules", { key }, {});
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.id, /^cl-[0-9a-z]{25}$/);
    assert.equal(r.json.status, "running");
    assert.equal(r.json.template, "minimal");
    assert.equal(r.json.vcpus, 1);
    assert.equal(r.json.memory_mb, 512);
    assert.equal(r.json.timeout_sec, 0);
    assert.equal(r.json.host_ip, "127.0.0.1:40000");
    assert.equal(r.json.metadata.agent_version, "fake");
    assert.equal(host.agent.lastAuth, `Bearer ${host.creds.agent_key}`);
    const g = await h.req("GET", `/v1/capsules/${r.json.id}`, { jwt: admin.token });
    assert.equal(g.status, 200);
    assert.equal(g.json.id, r.json.id);
  });

  it("creates with no body at all", async () => {
    const r = await h.app.inject({ method: "POST", url: "/v1/capsules", headers: { "x-api-key": key } });
    assert.equal(r.statusCode, 201, r.body);
  });

  it("rejects bad create input with invalid_request", async () => {
    for (const body of [
      { vcpus: "two" },
      { vcpus: 0 },
      { memory_mb: 1.5 },
      { template: "../etc" },
      { timeout_sec: -1 },
      [1, 2],
    ]) {
      const r = await h.req("POST", "/v1/capsules", { key }, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, "invalid_request");
    }
    const bad = await h.app.inject({
      method: "POST",
      url: "/v1/capsules",
      headers: { "x-api-key": key, "content-type": "application/json" },
      payload: "{nope",
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, "invalid_request");
  });

  it("ends a failed create in error with the reason and maps the agent code", async () => {
    host.agent.createError = new ConnectError("template python missing", Code.FailedPrecondition);
    try {
      const r = await h.req("POST", "/v1/capsules", { key }, { template: "python" });
      assert.equal(r.status, 409);
      assert.equal(r.json.error.code, "conflict");
      assert.equal(r.json.error.message, "template python missing");
      const row = await h.db.db
        .selectFrom("capsules")
        .selectAll()
        .where("template", "=", "python")
        .executeTakeFirstOrThrow();
      assert.equal(row.status, "error");
      assert.equal(row.status_reason, "error: template python missing");
      const list = await h.req("GET", "/v1/capsules", { key });
      assert.ok(!list.json.some((c: { id: string }) => c.id === row.id), "error capsules are not listed");
    } finally {
      host.agent.createError = undefined;
    }
  });

  it("returns 503 no_hosts_available when no host has room", async () => {
    const r = await h.req("POST", "/v1/capsules", { key }, { memory_mb: 262144 });
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, "no_hosts_available");
  });

  it("lists newest first and destroys to stopped", async () => {
    const a = await h.capsule(key);
    const b = await h.capsule(key);
    const list = await h.req("GET", "/v1/capsules", { key });
    assert.equal(list.status, 200);
    const ids = list.json.map((c: { id: string }) => c.id);
    assert.ok(ids.indexOf(b) < ids.indexOf(a));
    const d = await h.req("DELETE", `/v1/capsules/${a}`, { key });
    assert.equal(d.status, 204);
    assert.equal(d.body, "");
    const g = await h.req("GET", `/v1/capsules/${a}`, { key });
    assert.equal(g.json.status, "stopped");
    assert.equal(g.json.status_reason, "user");
    assert.ok(!host.agent.capsules.has(a));
    const again = await h.req("DELETE", `/v1/capsules/${a}`, { key });
    assert.equal(again.status, 204, "destroying a stopped capsule is idempotent");
  });

  it("answers 404 not_found for unknown ids and leaves static siblings free", async () => {
    for (const [m, u] of [
      ["GET", "/v1/capsules/cl-doesnotexist"],
      ["DELETE", "/v1/capsules/cl-doesnotexist"],
      ["POST", "/v1/capsules/cl-doesnotexist/ping"],
      ["GET", "/v1/capsules/cl-doesnotexist/metrics"],
    ] as const) {
      const r = await h.req(m, u, { key });
      assert.equal(r.status, 404, `${m} ${u}`);
      assert.equal(r.json.error.code, "not_found");
    }
    // The static metrics paths are not taken for capsule ids.
    const stats = await h.req("GET", "/v1/capsules/stats", { key });
    assert.equal(stats.status, 200, stats.body);
    assert.equal(stats.json.range, "1h");
    const usage = await h.req("GET", "/v1/capsules/usage", { key });
    assert.equal(usage.status, 200, usage.body);
  });

  it("pings, pauses and resumes with state checks", async () => {
    const id = await h.capsule(key);
    assert.equal((await h.req("POST", `/v1/capsules/${id}/ping`, { key })).status, 204);
    const p = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    assert.equal(p.status, 200);
    assert.equal(p.json.status, "paused");
    const ping = await h.req("POST", `/v1/capsules/${id}/ping`, { key });
    assert.equal(ping.status, 409);
    assert.equal(ping.json.error.code, "invalid_state");
    const exec = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "echo" });
    assert.equal(exec.json.error.code, "invalid_state");
    const again = await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    assert.equal(again.status, 409);
    const r = await h.req("POST", `/v1/capsules/${id}/resume`, { key });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, "running");
    assert.equal(r.json.host_ip, "127.0.0.1:40001");
  });

  it("execs in the foreground with utf-8, base64, exit codes, envs and cwd", async () => {
    const id = await h.capsule(key);
    const r = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "echo", args: ["hello", "world"] });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(
      {
        stdout: r.json.stdout,
        stderr: r.json.stderr,
        exit_code: r.json.exit_code,
        encoding: r.json.encoding,
        sandbox_id: r.json.sandbox_id,
        cmd: r.json.cmd,
      },
      { stdout: "hello world\n", stderr: "", exit_code: 0, encoding: "utf-8", sandbox_id: id, cmd: "echo" },
    );
    assert.equal(typeof r.json.duration_ms, "number");
    const bin = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "binary" });
    assert.equal(bin.json.encoding, "base64");
    assert.deepEqual([...Buffer.from(bin.json.stdout, "base64")], [0xff, 0xfe, 0x00, 0x80]);
    const fail = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "fail", args: ["3"] });
    assert.equal(fail.json.exit_code, 3);
    assert.equal(fail.json.stderr, "failed\n");
    const env = await h.req(
      "POST",
      `/v1/capsules/${id}/exec`,
      { key },
      { cmd: "printenv", envs: { A: "1" }, cwd: "/tmp" },
    );
    assert.deepEqual(JSON.parse(env.json.stdout), { envs: { A: "1" }, cwd: "/tmp" });
    const slow = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "sleep", timeout_sec: 1 });
    assert.equal(slow.status, 502);
    assert.equal(slow.json.error.code, "agent_error");
    const row = await h.db.db
      .selectFrom("capsules")
      .select("last_active_at")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    assert.ok(row.last_active_at);
  });

  it("rejects bad exec input", async () => {
    const id = await h.capsule(key);
    for (const body of [
      {},
      { cmd: "" },
      { cmd: 5 },
      { cmd: "ls", args: "x" },
      { cmd: "ls", timeout_sec: 0 },
      { cmd: "ls", envs: { A: 1 } },
    ]) {
      const r = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, "invalid_request");
    }
  });

  it("starts background processes, lists and signals them by pid and tag", async () => {
    const id = await h.capsule(key);
    const bg = await h.req("POST", `/v1/capsules/${id}/exec`, { key }, { cmd: "server", background: true });
    assert.equal(bg.status, 202);
    assert.match(bg.json.tag, /^proc-[0-9a-f]{8}$/);
    assert.equal(typeof bg.json.pid, "number");
    const tagged = await h.req(
      "POST",
      `/v1/capsules/${id}/exec`,
      { key },
      { cmd: "worker", background: true, tag: "w1" },
    );
    assert.equal(tagged.json.tag, "w1");
    const list = await h.req("GET", `/v1/capsules/${id}/processes`, { key });
    assert.equal(list.status, 200);
    assert.ok(list.json.processes.some((p: { tag: string }) => p.tag === "w1"));
    assert.equal((await h.req("DELETE", `/v1/capsules/${id}/processes/w1?signal=SIGTERM`, { key })).status, 204);
    assert.equal((await h.req("DELETE", `/v1/capsules/${id}/processes/${bg.json.pid}`, { key })).status, 204);
    const gone = await h.req("DELETE", `/v1/capsules/${id}/processes/w1`, { key });
    assert.equal(gone.status, 404);
    const badSig = await h.req("DELETE", `/v1/capsules/${id}/processes/1?signal=SIGHUP`, { key });
    assert.equal(badSig.status, 400);
  });
});
