// biome-ignore-all lint/suspicious/noTemplateCurlyInString: recipes are written in shell ${VAR} syntax.
/**
 * Template builds with the real stack: an admin queues a build with a tar.gz archive whose recipe copies a file,
 * sets a variable, changes directory, runs a command and starts a web server, gated by a healthcheck. The build
 * capsule is a real VM; the result is a platform snapshot template from which an ordinary team's capsule starts with
 * the file, the variable and the server already answering. A build whose RUN fails ends `failed` with its stderr.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type ApiAnswer,
  execSh,
  skipReason,
  stackApi,
  startTestStack,
  type TestStack,
} from "../../apps/cli/src/testing/e2e-stack.ts";

const skip = skipReason();
let stack: TestStack;
const scratch = mkdtempSync(join(tmpdir(), "wrenn-build-e2e-"));

before(
  async () => {
    if (!skip) stack = await startTestStack();
  },
  { timeout: 1_200_000 },
);
after(async () => {
  await stack?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

/** The stack's team (an ordinary team, through its API key). */
const asTeam = stackApi(() => stack);

/** An admin call with the stack user's JWT (admin routes refuse API keys); JSON or a prepared FormData. */
async function asAdmin(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const isForm = body instanceof FormData;
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.jwt}`,
      ...(body !== undefined && !isForm ? { "content-type": "application/json" } : {}),
    },
    body: isForm ? body : body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(600_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Polls a build until it ends (TCG VMs are slow), returning its last state. */
async function finished(id: string, timeoutMs = 1_200_000): Promise<ApiAnswer["json"]> {
  const deadline = Date.now() + timeoutMs;
  let last: ApiAnswer["json"];
  while (Date.now() < deadline) {
    last = (await asAdmin("GET", `/v1/admin/builds/${id}`)).json;
    if (["success", "failed", "cancelled"].includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 2000));
  }
  assert.fail(`build ${id} still ${last?.status} (step ${last?.current_step}/${last?.total_steps})`);
}

/** Runs a command in a team capsule and returns its stdout, asserting exit 0. */
const sh = (capsuleId: string, cmd: string) => execSh(asTeam, `/v1/capsules/${capsuleId}`, cmd);

const CONTENT = `built-file-${Date.now().toString(36)}`;
const FETCH =
  "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/hello.txt',timeout=5).read().decode())\"";

describe("template builds", { skip, timeout: 2_400_000 }, () => {
  const template = `build-e2e-${Date.now().toString(36)}`;

  it("builds a warm platform template from an archive and a recipe; a failing RUN fails its build", async () => {
    writeFileSync(join(scratch, "hello.txt"), CONTENT);
    execFileSync("tar", ["-czf", join(scratch, "files.tgz"), "-C", scratch, "hello.txt"]);
    const form = new FormData();
    form.append(
      "config",
      JSON.stringify({
        name: template,
        skip_pre_post: true, // the guest has no internet for apt
        recipe: [
          "COPY hello.txt /srv/site/",
          "ENV APP_GREETING=hello $$ from ${HOME}",
          "WORKDIR /srv/site",
          "RUN --timeout=2m test -f hello.txt && pwd > where.txt && printf '%s' \"$APP_GREETING\"",
          "START python3 -m http.server 8000",
        ],
        healthcheck: `--interval=1s --timeout=10s --retries=120 ${FETCH}`,
      }),
    );
    form.append("archive", new Blob([readFileSync(join(scratch, "files.tgz"))]), "files.tgz");
    const queued = await asAdmin("POST", "/v1/admin/builds", form);
    assert.equal(queued.status, 201, JSON.stringify(queued.json));
    assert.deepEqual([queued.json.status, queued.json.total_steps], ["pending", 5]);
    // Queued alongside: the second worker runs it at the same time.
    const failing = await asAdmin("POST", "/v1/admin/builds", {
      name: `${template}-broken`,
      skip_pre_post: true,
      recipe: ["RUN true", "RUN echo about to fail >&2; exit 7", "RUN echo never"],
    });
    assert.equal(failing.status, 201, JSON.stringify(failing.json));

    const b = await finished(queued.json.id);
    assert.equal(b.status, "success", `${b.error}\n${JSON.stringify(b.logs, null, 1)}`);
    assert.equal(b.current_step, 5);
    assert.deepEqual(
      b.logs.map((l: { step: number; phase: string; ok: boolean; exit: number }) => [l.step, l.phase, l.ok, l.exit]),
      [1, 2, 3, 4, 5].map((n) => [n, "recipe", true, 0]),
    );
    assert.equal(b.logs[3].stdout, "hello $ from /root", "ENV expanded $$ and ${HOME}; RUN saw it");
    assert.deepEqual([b.default_user, b.default_env], ["root", { APP_GREETING: "hello $ from /root" }]);
    assert.equal((await asAdmin("GET", `/v1/admin/capsules/${b.sandbox_id}`)).json.status, "stopped");

    const bad = await finished(failing.json.id);
    assert.equal(bad.status, "failed");
    assert.equal(bad.error, "recipe step 2 failed: about to fail");
    assert.deepEqual(
      bad.logs.map((l: { ok: boolean; exit: number }) => [l.ok, l.exit]),
      [
        [true, 0],
        [false, 7],
      ],
    );
    assert.equal((await asAdmin("GET", `/v1/admin/capsules/${bad.sandbox_id}`)).json.status, "stopped");

    const listed = await asTeam("GET", "/v1/snapshots?type=snapshot");
    assert.ok(listed.json.some((t: { name: string; platform: boolean }) => t.name === template && t.platform));
    const c = await asTeam("POST", "/v1/capsules", { template });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    try {
      // The server restored from the snapshot answers at once: no retry here.
      assert.equal(await sh(c.json.id, FETCH), CONTENT);
      assert.equal(await sh(c.json.id, "cat /srv/site/hello.txt"), CONTENT);
      assert.equal(await sh(c.json.id, "cat /srv/site/where.txt"), "/srv/site");
      assert.equal(await sh(c.json.id, 'printf %s "$APP_GREETING"'), "hello $ from /root");
    } finally {
      assert.equal((await asTeam("DELETE", `/v1/capsules/${c.json.id}`)).status, 204);
    }
    assert.equal((await asAdmin("DELETE", `/v1/admin/templates/${template}`)).status, 204);
  });
});
