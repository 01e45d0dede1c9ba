import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import pino from "pino";
import { finishBuild } from "../../../builds/build-store.ts";
import { BuildWorkers } from "../../../builds/index.ts";
import { PLATFORM_TEAM_ID } from "../../../ids.ts";
import type { FakeAgent } from "../../../testing/fake-agent.ts";
import { Harness, type TestUser } from "../../../testing/harness.ts";

/** A multipart body with the build `config` and optionally an `archive` file. */
async function multipart(config: unknown, archive?: Buffer) {
  const form = new FormData();
  form.append("config", typeof config === "string" ? config : JSON.stringify(config));
  if (archive) form.append("archive", new Blob([archive]), "files.tar.gz");
  const r = new Request("http://local.test", { method: "POST", body: form });
  return { payload: Buffer.from(await r.arrayBuffer()), contentType: r.headers.get("content-type") ?? "" };
}

/**
 * Lets a fake agent "run" build scripts: every `/bin/sh -c` script is recorded and answered by `answer` (default:
 * success). A script containing `block-forever` waits until its RPC is cancelled.
 */
function scriptedShell(agent: FakeAgent) {
  const scripts: string[] = [];
  const state = {
    scripts,
    answer: (_script: string) => ({ stdout: "done\n", stderr: "", exitCode: 0 }),
  };
  const impl = agent.impl.bind(agent);
  agent.impl = () => {
    const base = impl();
    return {
      ...base,
      exec: async (r, ctx) => {
        if (r.cmd !== "/bin/sh") return base.exec(r, ctx);
        if (!agent.capsules.has(r.capsuleId)) throw new ConnectError("capsule not found", Code.NotFound);
        const script = r.args[1] ?? "";
        scripts.push(script);
        if (script.includes("block-forever")) {
          await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
        }
        const a = state.answer(script);
        const enc = new TextEncoder();
        return { stdout: enc.encode(a.stdout), stderr: enc.encode(a.stderr), exitCode: a.exitCode, durationMs: 1n };
      },
    };
  };
  return state;
}

describe("admin template builds (/v1/admin/builds)", () => {
  let h: Harness;
  let admin: TestUser;
  let user: TestUser;
  let host: Awaited<ReturnType<Harness["onlineHost"]>>;
  let shell: ReturnType<typeof scriptedShell>;
  let workers: BuildWorkers[] = [];
  const dir = mkdtempSync(join(tmpdir(), "wrenn-builds-"));
  const log = pino({ level: process.env.WRENN_TEST_LOG ?? "silent" });

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin"); // the first user is the platform admin
    user = await h.user("ordinary");
    host = await h.onlineHost(admin);
    shell = scriptedShell(host.agent);
    h.services.agents.evict(host.hostId); // the next client is built on the scripted implementation
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
    shell.answer = () => ({ stdout: "done\n", stderr: "", exitCode: 0 });
    shell.scripts.length = 0;
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const asAdmin = (method: "GET" | "POST", url: string, body?: unknown) =>
    h.req(method, url, { jwt: admin.token }, body);
  const submit = async (body: Record<string, unknown>) => {
    const r = await asAdmin("POST", "/v1/admin/builds", body);
    assert.equal(r.status, 201, r.body);
    return r.json.id as string;
  };
  const postMultipart = async (config: unknown, archive?: Buffer) => {
    const m = await multipart(config, archive);
    const r = await h.app.inject({
      method: "POST",
      url: "/v1/admin/builds",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": m.contentType },
      payload: m.payload,
    });
    return { status: r.statusCode, json: JSON.parse(r.body) };
  };
  const startWorkers = (opts: Partial<ConstructorParameters<typeof BuildWorkers>[0]> = {}) => {
    const w = new BuildWorkers({
      db: h.services.db,
      log,
      builds: h.services.builds,
      capsules: h.services.capsules,
      runner: {
        db: h.services.db,
        log,
        agents: h.services.agents,
        capsules: h.services.capsules,
        snapshots: h.services.snapshots,
      },
      pollMs: 50,
      renewMs: 100,
      ...opts,
    });
    w.start();
    workers.push(w);
    return w;
  };
  const waitFor = async (id: string, statuses: string[]) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await asAdmin("GET", `/v1/admin/builds/${id}`);
      if (statuses.includes(r.json.status)) return r.json;
      if (Date.now() > deadline) assert.fail(`build ${id} stayed ${r.json.status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const capsuleStatus = async (id: string) =>
    (await h.db.db.selectFrom("capsules").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
  /** The capsule's status once it is `stopped`, or after 5 s: a build is recorded as ended before its capsule goes. */
  const capsuleStatusOnceStopped = async (id: string) => {
    const deadline = Date.now() + 5000;
    while ((await capsuleStatus(id)) !== "stopped" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return capsuleStatus(id);
  };
  const tarGz = () => {
    const src = join(dir, "src");
    execFileSync("mkdir", ["-p", src]);
    writeFileSync(join(src, "hello.txt"), "hello from the archive\n");
    execFileSync("tar", ["-czf", join(dir, "files.tgz"), "-C", src, "hello.txt"]);
    return readFileSync(join(dir, "files.tgz"));
  };

  it("is for platform admins with a user JWT only", async () => {
    const body = { name: "tpl-x", recipe: ["RUN true"] };
    assert.equal((await h.req("POST", "/v1/admin/builds", { jwt: user.token }, body)).status, 403);
    assert.equal((await h.req("GET", "/v1/admin/builds", { jwt: user.token })).json.error.code, "forbidden");
    assert.equal((await h.req("GET", "/v1/admin/builds", { key: await h.apiKey(admin) })).status, 401);
    assert.equal((await h.req("GET", "/v1/admin/builds")).status, 401);
    assert.equal((await h.req("POST", "/v1/admin/builds/bld-x/cancel", { jwt: user.token })).status, 403);
  });

  it("rejects bad input with the reference's codes, naming the bad recipe line", async () => {
    const bad = async (body: unknown, status: number, code: string, message?: RegExp) => {
      const r = await asAdmin("POST", "/v1/admin/builds", body);
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.body}`);
      assert.equal(r.json.error.code, code);
      if (message) assert.match(r.json.error.message, message);
    };
    await bad({ recipe: ["RUN true"] }, 400, "invalid_request", /name/);
    await bad({ name: "bad name!" }, 400, "invalid_request");
    await bad({ name: "t1", recipe: ["RUN ok", "FROM debian:12"] }, 400, "invalid_request", /recipe line 2: unknown/);
    await bad({ name: "t1", recipe: ["RUN --timeout=soon x"] }, 400, "invalid_request", /recipe line 1: --timeout/);
    await bad({ name: "t1", healthcheck: "--retries=x curl" }, 400, "invalid_request", /--retries/);
    await bad({ name: "t1", vcpus: 0 }, 400, "invalid_request");
    await bad({ name: "t1", base_template: "nope" }, 400, "invalid_request", /base_template nope/);
    await bad({ name: "t1", recipe: ["COPY a /b"] }, 400, "invalid_request", /COPY needs an archive/);
    await bad({ name: "minimal" }, 409, "name_reserved");
    await bad(undefined, 400, "invalid_request", /build config/);
    const noConfig = await postMultipart("{not json");
    assert.deepEqual([noConfig.status, noConfig.json.error.code], [400, "invalid_request"]);
    const notArchive = await postMultipart({ name: "t1" }, Buffer.from("just some text"));
    assert.equal(notArchive.status, 400);
    assert.match(notArchive.json.error.message, /tar, tar.gz or zip/);
    const badField = await postMultipart({ name: "t1", recipe: ["BOGUS"] }, tarGz());
    assert.equal(badField.status, 400);
    assert.match(badField.json.error.message, /recipe line 1/);
    assert.equal((await asAdmin("GET", "/v1/admin/builds")).json.length, 0, "nothing was queued");
  });

  it("documents every build route in the OpenAPI document", async () => {
    const doc = (await h.req("GET", "/openapi.yaml")).body;
    for (const path of ["/v1/admin/builds:", "/v1/admin/builds/{id}:", "/v1/admin/builds/{id}/cancel:"]) {
      assert.ok(doc.includes(path), `${path} missing from /openapi.yaml`);
    }
  });

  it("refuses an archive over 100 MB with 413 too_large", async () => {
    const big = Buffer.alloc(100 * 1024 * 1024 + 1);
    big[0] = 0x1f;
    big[1] = 0x8b;
    const r = await postMultipart({ name: "t-big" }, big);
    assert.deepEqual([r.status, r.json.error.code], [413, "too_large"]);
  });

  it("queues, lists and gets builds in the reference shape, and cancels a pending one", async () => {
    const id = await submit({ name: "queued", recipe: ["RUN echo a", "ENV A=1"], healthcheck: "true" });
    assert.match(id, /^bld-[0-9a-z]{25}$/);
    const got = await asAdmin("GET", `/v1/admin/builds/${id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(Object.keys(got.json).sort(), [
      "base_template",
      "completed_at",
      "created_at",
      "current_step",
      "default_env",
      "default_user",
      "error",
      "healthcheck",
      "host_id",
      "id",
      "logs",
      "memory_mb",
      "name",
      "recipe",
      "sandbox_id",
      "skip_pre_post",
      "started_at",
      "status",
      "total_steps",
      "vcpus",
    ]);
    assert.deepEqual(
      [got.json.status, got.json.total_steps, got.json.base_template, got.json.vcpus, got.json.memory_mb],
      ["pending", 2 + 7, "minimal", 1, 512],
    );
    assert.deepEqual(got.json.recipe, ["RUN echo a", "ENV A=1"]);
    const list = await asAdmin("GET", "/v1/admin/builds");
    assert.ok(list.json.some((b: { id: string }) => b.id === id));
    assert.equal((await asAdmin("GET", "/v1/admin/builds/bld-missing")).status, 404);
    assert.equal((await asAdmin("POST", `/v1/admin/builds/${id}/cancel`)).status, 204);
    const cancelled = (await asAdmin("GET", `/v1/admin/builds/${id}`)).json;
    assert.equal(cancelled.status, "cancelled");
    assert.ok(cancelled.completed_at);
    const again = await asAdmin("POST", `/v1/admin/builds/${id}/cancel`);
    assert.deepEqual([again.status, again.json.error.code], [409, "conflict"]);
    // A cancelled build is skipped: workers never start it.
    startWorkers();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await asAdmin("GET", `/v1/admin/builds/${id}`)).json.status, "cancelled");
    const audit = await h.db.db
      .selectFrom("audit_logs")
      .select(["action", "scope", "team_id"])
      .where("resource_type", "=", "build")
      .where("resource_id", "=", id)
      .orderBy("created_at")
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.action, a.scope, a.team_id]),
      [
        ["create", "admin", PLATFORM_TEAM_ID],
        ["cancel", "admin", PLATFORM_TEAM_ID],
      ],
    );
  });

  it("runs each build once across two control planes' workers", async () => {
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await submit({ name: `many-${i}`, recipe: ["RUN true"] }));
    const runs: string[] = [];
    const run = async (b: { id: string }) => {
      runs.push(b.id);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      await finishBuild(h.services.db, b.id, { status: "failed", error: "stub" });
    };
    startWorkers({ run, count: 2 });
    startWorkers({ run, count: 2 });
    for (const id of ids) await waitFor(id, ["failed"]);
    assert.deepEqual([...runs].sort(), [...ids].sort());
  });

  it("builds a platform template: archive, steps, progress, healthcheck, snapshot, capsule gone", async () => {
    const recipe = [
      "COPY hello.txt /srv/app/",
      "ENV GREETING=hi $$HOME",
      "ENV HOME=/ignored",
      "WORKDIR /srv/app",
      "USER app",
      "RUN --timeout=2m make",
      "START python3 -m http.server 8000",
    ];
    const r = await postMultipart(
      { name: "my-tpl", recipe, healthcheck: "--interval=10ms curl -sf http://127.0.0.1:8000/", vcpus: 2 },
      tarGz(),
    );
    assert.equal(r.status, 201, JSON.stringify(r.json));
    let checks = 0;
    shell.answer = (script) => {
      if (script.includes("curl -sf"))
        return { stdout: "", stderr: ++checks < 3 ? "refused" : "", exitCode: checks < 3 ? 7 : 0 };
      return { stdout: "done\n", stderr: "", exitCode: 0 };
    };
    startWorkers();
    const b = await waitFor(r.json.id, ["success", "failed"]);
    assert.equal(b.status, "success", b.error);
    assert.equal(b.total_steps, recipe.length + 7);
    assert.equal(b.current_step, b.total_steps);
    assert.deepEqual(
      b.logs.map((l: { step: number; phase: string; ok: boolean }) => [l.step, l.phase, l.ok]),
      Array.from({ length: 14 }, (_, i) => [i + 1, i < 3 ? "pre-build" : i < 10 ? "recipe" : "post-build", true]),
    );
    assert.equal(b.logs[8].cmd, "RUN --timeout=2m make");
    assert.equal(b.logs[8].stdout, "done\n");
    assert.equal(b.default_user, "app");
    assert.deepEqual(b.default_env, { GREETING: "hi $HOME" });
    assert.equal(checks, 3, "the healthcheck was polled until it passed");
    // The archive went to the capsule and was unpacked there before the first step.
    assert.ok(host.agent.files.has("/tmp/build-archive"));
    assert.match(shell.scripts[0] ?? "", /tar -xzf '\/tmp\/build-archive' -C '\/tmp\/build-files'/);
    assert.ok(shell.scripts.some((s) => s.startsWith("su 'app' -s /bin/sh -c ") && s.includes("make")));
    const tpl = await h.db.db
      .selectFrom("templates")
      .selectAll()
      .where("team_id", "=", PLATFORM_TEAM_ID)
      .where("name", "=", "my-tpl")
      .executeTakeFirstOrThrow();
    assert.deepEqual([tpl.type, tpl.default_user, tpl.default_env], ["snapshot", "app", { GREETING: "hi $HOME" }]);
    assert.ok(host.agent.snapshots.has(`${PLATFORM_TEAM_ID}/my-tpl`));
    assert.equal(await capsuleStatusOnceStopped(b.sandbox_id), "stopped");
    assert.equal(b.host_id, host.hostId);
    const archives = await h.db.db.selectFrom("template_build_archives").select("build_id").execute();
    assert.equal(archives.length, 0, "the archive is dropped once the build ends");
    // Every team sees the new platform template.
    const visible = await h.req("GET", "/v1/snapshots", { jwt: user.token });
    assert.ok(visible.json.some((t: { name: string; platform: boolean }) => t.name === "my-tpl" && t.platform));
  });

  it("fails on a failing RUN with phase, step and stderr, and destroys the capsule", async () => {
    shell.answer = (script) =>
      script.includes("exit 3")
        ? { stdout: "", stderr: "make: *** no rule\n", exitCode: 3 }
        : { stdout: "", stderr: "", exitCode: 0 };
    const id = await submit({ name: "broken", recipe: ["RUN true", "RUN exit 3", "RUN never"], skip_pre_post: true });
    startWorkers();
    const b = await waitFor(id, ["failed", "success"]);
    assert.equal(b.status, "failed");
    assert.equal(b.error, "recipe step 2 failed: make: *** no rule");
    assert.equal(b.current_step, 2);
    assert.deepEqual(
      b.logs.map((l: { exit: number; ok: boolean }) => [l.exit, l.ok]),
      [
        [0, true],
        [3, false],
      ],
    );
    assert.ok(!shell.scripts.some((s) => s.includes("never")));
    assert.equal(await capsuleStatusOnceStopped(b.sandbox_id), "stopped");
    shell.answer = () => ({ stdout: "", stderr: "", exitCode: 1 });
    const silent = await submit({ name: "silent", recipe: ["RUN false"], skip_pre_post: true });
    assert.equal((await waitFor(silent, ["failed"])).error, "recipe step 1 failed: exit code 1");
  });

  it("aborts a running build on cancel and destroys its capsule", async () => {
    const id = await submit({ name: "slow", recipe: ["RUN block-forever", "RUN after"], skip_pre_post: true });
    startWorkers();
    const running = await waitFor(id, ["running"]);
    const deadline = Date.now() + 5000;
    while (!shell.scripts.some((s) => s.includes("block-forever")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await asAdmin("POST", `/v1/admin/builds/${id}/cancel`)).status, 204);
    const capsuleId = running.sandbox_id ?? (await asAdmin("GET", `/v1/admin/builds/${id}`)).json.sandbox_id;
    assert.equal(await capsuleStatusOnceStopped(capsuleId), "stopped");
    const b = (await asAdmin("GET", `/v1/admin/builds/${id}`)).json;
    assert.equal(b.status, "cancelled");
    assert.ok(!shell.scripts.some((s) => s.includes("after")));
  });

  /** Queues a build whose only step blocks, starts workers and waits until that step runs; returns its capsule. */
  const blockedBuild = async (name: string) => {
    const id = await submit({ name, recipe: ["RUN block-forever", "RUN after"], skip_pre_post: true });
    const w = startWorkers();
    const deadline = Date.now() + 10_000;
    while (!shell.scripts.some((s) => s.includes("block-forever")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const capsuleId = (await asAdmin("GET", `/v1/admin/builds/${id}`)).json.sandbox_id as string;
    return { id, capsuleId, w };
  };
  const waitStopped = async (capsuleId: string) => {
    const deadline = Date.now() + 10_000;
    while ((await capsuleStatus(capsuleId)) !== "stopped" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await capsuleStatus(capsuleId), "stopped");
  };

  it("stops a build cancelled through another control plane at its next lease renewal", async () => {
    const { id, capsuleId } = await blockedBuild("cancelled-elsewhere");
    // What another replica's cancel route writes; nothing tells this process directly.
    await h.db.db.updateTable("template_builds").set({ status: "cancelled" }).where("id", "=", id).execute();
    await waitStopped(capsuleId);
    assert.equal((await asAdmin("GET", `/v1/admin/builds/${id}`)).json.status, "cancelled");
    assert.ok(!shell.scripts.some((s) => s.includes("after")));
  });

  it("records builds running at shutdown as failed and destroys their capsules", async () => {
    const { id, capsuleId, w } = await blockedBuild("at-shutdown");
    await w.stop();
    workers = workers.filter((x) => x !== w);
    const b = (await asAdmin("GET", `/v1/admin/builds/${id}`)).json;
    assert.deepEqual([b.status, b.error], ["failed", "the control plane stopped during the build"]);
    assert.equal(await capsuleStatus(capsuleId), "stopped");
  });

  it("fails a build whose control plane stopped renewing its lease, and destroys its capsule", async () => {
    const id = await submit({ name: "orphan", recipe: ["RUN true"], skip_pre_post: true });
    const capsuleId = await (async () => {
      const r = await asAdmin("POST", "/v1/admin/capsules", {});
      return r.status === 201 ? (r.json.id as string) : undefined;
    })();
    await h.db.db
      .updateTable("template_builds")
      .set({ status: "running", lease_until: new Date(Date.now() - 1000), sandbox_id: capsuleId ?? null })
      .where("id", "=", id)
      .execute();
    startWorkers({ run: async () => assert.fail("a lapsed build must not be run again") });
    const b = await waitFor(id, ["failed"]);
    assert.match(b.error, /stopped responding/);
    assert.ok(capsuleId, "an admin capsule stands in for the build capsule");
    await waitStopped(capsuleId);
  });
});
