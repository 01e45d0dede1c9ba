import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { PLATFORM_TEAM_ID } from "../../../ids.ts";
import { type Cred, Harness, type TestUser } from "../../../testing/harness.ts";

/** A multipart body as a browser would send it (FormData encoded by fetch's Request). */
async function multipart(path: string, content: Buffer) {
  const form = new FormData();
  form.append("path", path);
  form.append("file", new Blob([content]), "upload.bin");
  const r = new Request("http://local.test", { method: "POST", body: form });
  return { payload: Buffer.from(await r.arrayBuffer()), contentType: r.headers.get("content-type") ?? "" };
}

describe("admin capsule routes (/v1/admin/capsules)", () => {
  let h: Harness;
  let admin: TestUser;
  let user: TestUser;
  let userKey: string;
  let host: Awaited<ReturnType<Harness["onlineHost"]>>;
  const base = "/v1/admin/capsules";

  before(async () => {
    h = await Harness.start();
    admin = await h.user("admin"); // the first user becomes platform admin
    user = await h.user("ordinary");
    userKey = await h.apiKey(user);
    host = await h.onlineHost(admin);
  });
  after(() => h.close());

  const asAdmin = (method: "GET" | "POST" | "DELETE", url: string, body?: unknown) =>
    h.req(method, url, { jwt: admin.token }, body);
  const createPlatformCapsule = async (body: Record<string, unknown> = {}) => {
    const r = await asAdmin("POST", base, body);
    assert.equal(r.status, 201, r.body);
    return r.json.id as string;
  };
  const teamOf = async (id: string) =>
    (await h.db.db.selectFrom("capsules").select("team_id").where("id", "=", id).executeTakeFirstOrThrow()).team_id;

  it("creates, lists, gets and destroys capsules of the platform team", async () => {
    const id = await createPlatformCapsule({ vcpus: 2, memory_mb: 1024 });
    assert.equal(await teamOf(id), PLATFORM_TEAM_ID);
    const got = await asAdmin("GET", `${base}/${id}`);
    assert.equal(got.status, 200);
    assert.deepEqual([got.json.id, got.json.status, got.json.vcpus, got.json.memory_mb], [id, "running", 2, 1024]);
    const list = await asAdmin("GET", base);
    assert.equal(list.status, 200);
    assert.ok(list.json.some((c: { id: string }) => c.id === id));
    // The admin's own team does not see platform capsules, and the platform list holds no team capsule.
    const teamCapsule = await h.capsule(userKey);
    assert.ok(!list.json.some((c: { id: string }) => c.id === teamCapsule));
    const mine = await h.req("GET", "/v1/capsules", { jwt: admin.token });
    assert.ok(!mine.json.some((c: { id: string }) => c.id === id));
    // Platform capsules are no team's: the team routes do not reach them.
    for (const cred of [{ key: userKey }, { jwt: admin.token }]) {
      assert.equal((await h.req("GET", `/v1/capsules/${id}`, cred)).status, 404);
      assert.equal((await h.req("DELETE", `/v1/capsules/${id}`, cred)).status, 404);
    }
    const del = await asAdmin("DELETE", `${base}/${id}`);
    assert.equal(del.status, 204);
    assert.equal((await asAdmin("GET", `${base}/${id}`)).json.status, "stopped");
    assert.ok(!host.agent.capsules.has(id));
  });

  it("gives 404 for a team's capsule and an unknown id: the admin routes reach platform capsules only", async () => {
    const teamCapsule = await h.capsule(userKey);
    for (const path of ["", "/processes"]) {
      const r = await asAdmin("GET", `${base}/${teamCapsule}${path}`);
      assert.equal(r.status, 404, path);
      assert.equal(r.json.error.code, "not_found");
    }
    assert.equal((await asAdmin("DELETE", `${base}/${teamCapsule}`)).status, 404);
    assert.equal((await asAdmin("POST", `${base}/${teamCapsule}/snapshot`, {})).status, 404);
    assert.equal((await asAdmin("GET", `${base}/cl-unknown`)).status, 404);
    assert.equal((await h.req("GET", `/v1/capsules/${teamCapsule}`, { key: userKey })).json.status, "running");
  });

  it("refuses non-admins with 403, API keys and anonymous callers with 401", async () => {
    const id = await createPlatformCapsule();
    const adminKey = await h.apiKey(admin);
    const calls: Array<[string, string, unknown]> = [
      ["GET", base, undefined],
      ["POST", base, {}],
      ["GET", `${base}/${id}`, undefined],
      ["DELETE", `${base}/${id}`, undefined],
      ["POST", `${base}/${id}/exec`, { cmd: "echo" }],
      ["POST", `${base}/${id}/files/read`, { path: "/x" }],
      ["POST", `${base}/${id}/files/list`, { path: "/" }],
      ["POST", `${base}/${id}/files/mkdir`, { path: "/d" }],
      ["POST", `${base}/${id}/files/remove`, { path: "/x" }],
      ["GET", `${base}/${id}/metrics`, undefined],
      ["GET", `${base}/${id}/processes`, undefined],
      ["DELETE", `${base}/${id}/processes/7`, undefined],
      ["POST", `${base}/${id}/snapshot`, {}],
    ];
    const cases: Array<[Cred, number, string]> = [
      [{ jwt: user.token }, 403, "forbidden"],
      [{ key: adminKey }, 401, "unauthorized"],
      [undefined, 401, "unauthorized"],
    ];
    for (const [method, url, body] of calls) {
      for (const [cred, status, code] of cases) {
        const r = await h.req(method as "GET", url, cred, body);
        assert.equal(r.status, status, `${method} ${url} ${JSON.stringify(cred)}`);
        assert.equal(r.json.error.code, code);
      }
    }
    assert.equal((await asAdmin("GET", `${base}/${id}`)).json.status, "running", "nothing was destroyed");
  });

  it("runs commands, files, processes and metrics through the team handlers", async () => {
    const id = await createPlatformCapsule();
    const fg = await asAdmin("POST", `${base}/${id}/exec`, { cmd: "echo", args: ["hello"] });
    assert.equal(fg.status, 200, fg.body);
    assert.deepEqual([fg.json.sandbox_id, fg.json.stdout, fg.json.exit_code], [id, "hello\n", 0]);
    const bg = await asAdmin("POST", `${base}/${id}/exec`, { cmd: "sleep", background: true, tag: "srv" });
    assert.equal(bg.status, 202, bg.body);
    const ps = await asAdmin("GET", `${base}/${id}/processes`);
    assert.equal(ps.status, 200);
    assert.ok(ps.json.processes.some((p: { tag: string }) => p.tag === "srv"));
    assert.equal((await asAdmin("DELETE", `${base}/${id}/processes/srv`)).status, 204);
    const after = await asAdmin("GET", `${base}/${id}/processes`);
    assert.ok(!after.json.processes.some((p: { tag: string }) => p.tag === "srv"));

    const data = Buffer.from([1, 2, 3, 254, 255]);
    const body = await multipart("/srv/data.bin", data);
    const w = await h.app.inject({
      method: "POST",
      url: `${base}/${id}/files/write`,
      headers: { authorization: `Bearer ${admin.token}`, "content-type": body.contentType },
      payload: body.payload,
    });
    assert.equal(w.statusCode, 204, w.body);
    assert.deepEqual(Buffer.from(host.agent.files.get("/srv/data.bin")!), data);
    const r = await asAdmin("POST", `${base}/${id}/files/read`, { path: "/srv/data.bin" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.rawPayload, data);
    const mk = await asAdmin("POST", `${base}/${id}/files/mkdir`, { path: "/srv/sub" });
    assert.equal(mk.status, 200, mk.body);
    const ls = await asAdmin("POST", `${base}/${id}/files/list`, { path: "/srv", depth: 1 });
    assert.equal(ls.status, 200, ls.body);
    assert.ok(ls.json.entries.some((e: { path: string }) => e.path === "/srv/data.bin"));
    assert.equal((await asAdmin("POST", `${base}/${id}/files/remove`, { path: "/srv/data.bin" })).status, 204);
    assert.ok(!host.agent.files.has("/srv/data.bin"));

    const m = await asAdmin("GET", `${base}/${id}/metrics?range=5m`);
    assert.equal(m.status, 200, m.body);
    assert.deepEqual([m.json.sandbox_id, m.json.range], [id, "5m"]);
  });

  it("answers bad input with 400 invalid_request", async () => {
    const id = await createPlatformCapsule();
    const bad: Array<[string, string, unknown]> = [
      ["POST", base, { vcpus: 0 }],
      ["POST", base, { template: "../etc" }],
      ["POST", `${base}/${id}/exec`, {}],
      ["POST", `${base}/${id}/exec`, { cmd: "echo", timeout_sec: -1 }],
      ["POST", `${base}/${id}/files/read`, {}],
      ["POST", `${base}/${id}/files/write`, { path: "/x" }],
      ["GET", `${base}/${id}/metrics?range=1y`, undefined],
      ["DELETE", `${base}/${id}/processes/1?signal=SIGHUP`, undefined],
      ["POST", `${base}/${id}/snapshot`, { name: "../x" }],
      ["POST", `${base}/${id}/snapshot`, { name: "x".repeat(65) }],
    ];
    for (const [method, url, body] of bad) {
      const r = await asAdmin(method as "POST", url, body);
      assert.equal(r.status, 400, `${method} ${url} ${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.json.error.code, "invalid_request");
    }
    const unknownTemplate = await asAdmin("POST", base, { template: "no-such-template" });
    assert.equal(unknownTemplate.status, 404);
  });

  it("snapshots a platform capsule into a platform template every team sees and can start", async () => {
    const id = await createPlatformCapsule({ vcpus: 2, memory_mb: 2048 });
    const r = await asAdmin("POST", `${base}/${id}/snapshot`, { name: "jupyter" });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(
      [r.json.name, r.json.type, r.json.platform, r.json.vcpus, r.json.memory_mb],
      ["jupyter", "snapshot", true, 2, 2048],
    );
    assert.ok(host.agent.snapshots.has(`${PLATFORM_TEAM_ID}/jupyter`));
    // The source capsule is destroyed afterwards.
    assert.equal((await asAdmin("GET", `${base}/${id}`)).json.status, "stopped");
    assert.ok(!host.agent.capsules.has(id));

    const listed = await h.req("GET", "/v1/snapshots", { key: userKey });
    const mine = listed.json.find((t: { name: string }) => t.name === "jupyter");
    assert.deepEqual([mine?.type, mine?.platform], ["snapshot", true]);
    const onlySnapshots = await h.req("GET", "/v1/snapshots?type=snapshot", { key: userKey });
    assert.ok(onlySnapshots.json.some((t: { name: string }) => t.name === "jupyter"));

    const created = await h.req("POST", "/v1/capsules", { key: userKey }, { template: "jupyter" });
    assert.equal(created.status, 201, created.body);
    assert.deepEqual([created.json.template, created.json.vcpus, created.json.memory_mb], ["jupyter", 2, 2048]);
    assert.equal(await teamOf(created.json.id), user.team_id);
    // The agent finds the template under its owner, the platform team.
    const req = host.agent.createRequests.at(-1);
    assert.deepEqual([req?.template, req?.teamId], ["jupyter", PLATFORM_TEAM_ID]);
    // A team cannot take the platform name, nor delete the platform template.
    const clash = await h.req(
      "POST",
      "/v1/snapshots",
      { key: userKey },
      { sandbox_id: created.json.id, name: "jupyter" },
    );
    assert.equal(clash.json.error?.code, "name_reserved");
    assert.equal((await h.req("DELETE", "/v1/snapshots/jupyter", { key: userKey })).status, 403);

    const audit = await h.db.db
      .selectFrom("audit_logs")
      .selectAll()
      .where("resource_type", "=", "template")
      .where("resource_id", "=", "jupyter")
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.action, a.scope, a.team_id, a.actor_id]),
      [["create", "admin", PLATFORM_TEAM_ID, admin.user_id]],
    );
  });

  it("overwrites a platform template of the same name, and names it template-<8 hex> by default", async () => {
    const a = await createPlatformCapsule({ vcpus: 1, memory_mb: 512 });
    assert.equal((await asAdmin("POST", `${base}/${a}/snapshot`, { name: "ow" })).status, 201);
    const b = await createPlatformCapsule({ vcpus: 3, memory_mb: 768 });
    const again = await asAdmin("POST", `${base}/${b}/snapshot`, { name: "ow" });
    assert.equal(again.status, 201, again.body);
    assert.deepEqual([again.json.vcpus, again.json.memory_mb], [3, 768]);
    const rows = await h.db.db.selectFrom("templates").selectAll().where("name", "=", "ow").execute();
    assert.deepEqual(
      rows.map((t) => [t.team_id, t.source_capsule_id]),
      [[PLATFORM_TEAM_ID, b]],
    );
    const c = await createPlatformCapsule();
    const unnamed = await asAdmin("POST", `${base}/${c}/snapshot`);
    assert.equal(unnamed.status, 201, unnamed.body);
    assert.match(unnamed.json.name, /^template-[0-9a-f]{8}$/);
  });

  it("refuses seeded base-image names and non-running capsules, keeping the capsule", async () => {
    const id = await createPlatformCapsule();
    for (const name of ["minimal", "python", "node"]) {
      const r = await asAdmin("POST", `${base}/${id}/snapshot`, { name });
      assert.equal(r.status, 409, name);
      assert.equal(r.json.error.code, "name_reserved");
    }
    assert.equal((await asAdmin("DELETE", `${base}/${id}`)).status, 204);
    const stopped = await asAdmin("POST", `${base}/${id}/snapshot`, { name: "late" });
    assert.equal(stopped.status, 409);
    assert.equal(stopped.json.error.code, "invalid_state");
  });

  it("keeps the capsule when the agent's snapshot fails", async () => {
    const id = await createPlatformCapsule();
    host.agent.snapshotError = new ConnectError("disk full", Code.ResourceExhausted);
    try {
      const r = await asAdmin("POST", `${base}/${id}/snapshot`, { name: "broken" });
      assert.equal(r.status, 502, r.body);
      assert.equal(r.json.error.code, "agent_error");
    } finally {
      host.agent.snapshotError = undefined;
    }
    assert.equal((await asAdmin("GET", `${base}/${id}`)).json.status, "running");
    const row = await h.db.db.selectFrom("templates").select("id").where("name", "=", "broken").executeTakeFirst();
    assert.equal(row, undefined);
  });

  it("lists the admin capsule routes in /openapi.yaml", async () => {
    const r = await h.req("GET", "/openapi.yaml");
    assert.equal(r.status, 200);
    for (const path of [
      "/v1/admin/capsules:",
      "/v1/admin/capsules/{id}:",
      "/v1/admin/capsules/{id}/snapshot:",
      "/v1/admin/capsules/{id}/exec:",
      "/v1/admin/capsules/{id}/files/write:",
      "/v1/admin/capsules/{id}/metrics:",
      "/v1/admin/capsules/{id}/processes/{selector}:",
      "/v1/capsules/{id}/exec:",
    ]) {
      assert.ok(r.body.includes(path), path);
    }
  });
});
