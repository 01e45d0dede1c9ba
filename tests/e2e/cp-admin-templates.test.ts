/**
 * Platform templates made by hand, with the real stack: a platform admin creates a capsule through
 * `/v1/admin/capsules`, uploads a file and starts a web server in it, snapshots it into a platform template (the
 * capsule is destroyed), and an ordinary team starts a capsule from that template whose server is already running
 * with the file: reached from inside the capsule and through the port proxy.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import {
  type ApiAnswer,
  execSh,
  pollUntil,
  skipReason,
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

/** One REST call with a credential header; JSON bodies, or a prepared FormData. */
async function call(auth: Record<string, string>, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const isForm = body instanceof FormData;
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { ...auth, ...(body !== undefined && !isForm ? { "content-type": "application/json" } : {}) },
    body: isForm ? body : body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(600_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** The stack's admin (a user JWT: admin routes refuse API keys). */
const asAdmin = (method: string, path: string, body?: unknown) =>
  call({ authorization: `Bearer ${stack.jwt}` }, method, path, body);

/** GET `path` of guest port `port` through the control plane's port proxy (`Host: {port}-{id}.localhost`). */
function proxiedGet(id: string, port: number, path: string): Promise<{ status: number; body: string }> {
  const cp = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: cp.hostname, port: cp.port, path, headers: { host: `${port}-${id}.localhost` }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("proxy request timed out")));
    req.on("error", reject);
    req.end();
  });
}

const CONTENT = `platform-template-${Date.now().toString(36)}`;
const SERVER = "cd /srv/site && exec python3 -m http.server 8000";
const FETCH =
  "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/hello.txt',timeout=5).read().decode())\"";

describe("platform templates from admin capsules", { skip, timeout: 1_800_000 }, () => {
  const template = `admin-e2e-${Date.now().toString(36)}`;

  it("an admin's snapshot becomes a template an ordinary team starts with the server and file in place", async () => {
    // The ordinary team: a second team of the stack's user, with its own (non-admin) API key.
    const team = await asAdmin("POST", "/v1/teams", { name: "Ordinary team" });
    assert.equal(team.status, 201, JSON.stringify(team.json));
    const switched = await asAdmin("POST", "/v1/auth/switch-team", { team_id: team.json.id });
    assert.equal(switched.status, 200, JSON.stringify(switched.json));
    const key = await call({ authorization: `Bearer ${switched.json.token}` }, "POST", "/v1/api-keys", { name: "e2e" });
    assert.equal(key.status, 201, JSON.stringify(key.json));
    const asTeam = (method: string, path: string, body?: unknown) =>
      call({ "x-api-key": key.json.key }, method, path, body);

    const c = await asAdmin("POST", "/v1/admin/capsules", { template: "minimal" });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    const admin = `/v1/admin/capsules/${c.json.id}`;
    assert.equal((await asTeam("GET", `/v1/capsules/${c.json.id}`)).status, 404, "no team reaches a platform capsule");
    const mk = await asAdmin("POST", `${admin}/files/mkdir`, { path: "/srv/site" });
    assert.equal(mk.status, 200, JSON.stringify(mk.json));
    const form = new FormData();
    form.append("path", "/srv/site/hello.txt");
    form.append("file", new Blob([CONTENT]), "hello.txt");
    assert.equal((await asAdmin("POST", `${admin}/files/write`, form)).status, 204);
    const bg = await asAdmin("POST", `${admin}/exec`, {
      cmd: "/bin/sh",
      args: ["-c", SERVER],
      background: true,
      tag: "web",
    });
    assert.equal(bg.status, 202, JSON.stringify(bg.json));
    await pollUntil(
      "the admin capsule's server",
      () => execSh(asAdmin, admin, `${FETCH} || true`),
      (v) => v === CONTENT,
      120_000,
    );

    const s = await asAdmin("POST", `${admin}/snapshot`, { name: template });
    assert.equal(s.status, 201, JSON.stringify(s.json));
    assert.deepEqual([s.json.name, s.json.type, s.json.platform], [template, "snapshot", true]);
    assert.equal((await asAdmin("GET", admin)).json.status, "stopped", "the source capsule is destroyed");
    const all = await asAdmin("GET", "/v1/admin/templates");
    const row = all.json.find((t: { name: string }) => t.name === template);
    assert.equal(row?.team_id, "team-0000000000000000000000000");

    const visible = await asTeam("GET", "/v1/snapshots?type=snapshot");
    assert.ok(visible.json.some((t: { name: string; platform: boolean }) => t.name === template && t.platform));
    const clone = await asTeam("POST", "/v1/capsules", { template });
    assert.equal(clone.status, 201, JSON.stringify(clone.json));
    const mine = `/v1/capsules/${clone.json.id}`;
    try {
      const read = await asTeam("POST", `${mine}/files/read`, { path: "/srv/site/hello.txt" });
      assert.equal(read.status, 200);
      assert.equal(read.json, CONTENT);
      // The server restored from the snapshot answers without being started again.
      assert.equal(await execSh(asTeam, mine, FETCH), CONTENT);
      const viaProxy = await proxiedGet(clone.json.id, 8000, "/hello.txt");
      assert.deepEqual([viaProxy.status, viaProxy.body], [200, CONTENT]);
    } finally {
      assert.equal((await asTeam("DELETE", mine)).status, 204);
    }
    assert.equal((await asAdmin("DELETE", `/v1/admin/templates/${template}`)).status, 204);
    assert.equal((await asTeam("POST", "/v1/capsules", { template })).status, 404, "the template is gone");
    assert.equal((await asAdmin("DELETE", "/v1/admin/templates/minimal")).status, 403);
  });
});
