import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { EnvdHarness, runToEnd } from "../testing/envd-harness.ts";
import { ENVD_VERSION } from "../version.ts";

function multipart(files: Array<{ name: string; body: string | Buffer }>, field = "file") {
  const form = new FormData();
  for (const f of files) form.append(field, new Blob([f.body]), f.name);
  return form;
}

describe("envd HTTP endpoints without a token", () => {
  let h: EnvdHarness;
  before(async () => {
    h = await EnvdHarness.start();
  });
  after(() => h.close());

  it("answers GET /health with the version, uncached", async () => {
    const res = await h.fetch("/health");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(await res.json(), { version: ENVD_VERSION });
  });

  it("uploads multipart files and downloads them back", async () => {
    const res = await h.fetch("/files?path=up/hello.txt", {
      method: "POST",
      body: multipart([{ name: "x", body: "hi!" }]),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), [{ path: join(h.root, "up/hello.txt"), name: "hello.txt", type: "file" }]);
    assert.equal(await readFile(join(h.root, "up/hello.txt"), "utf8"), "hi!");
    const down = await h.fetch("/files?path=up/hello.txt");
    assert.equal(down.status, 200);
    assert.equal(down.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(down.headers.get("content-length"), "3");
    assert.equal(await down.text(), "hi!");
  });

  it("puts several parts into a directory by filename, or into the home without a path", async () => {
    await mkdir(join(h.root, "many"));
    const res = await h.fetch("/files?path=many", {
      method: "POST",
      body: multipart([
        { name: "a.bin", body: Buffer.from([0, 1, 2]) },
        { name: "../escape.txt", body: "b" },
      ]),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Array<{ path: string }>;
    assert.deepEqual(
      body.map((b) => b.path),
      [join(h.root, "many/a.bin"), join(h.root, "many/escape.txt")],
      "a filename never escapes the target directory",
    );
    const home = await h.fetch("/files", { method: "POST", body: multipart([{ name: "root.txt", body: "r" }]) });
    assert.equal(home.status, 200);
    assert.equal(await readFile(join(h.root, "root.txt"), "utf8"), "r");
  });

  it("accepts a raw body upload to a path", async () => {
    const res = await h.fetch("/files?path=raw/data.bin", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from("raw bytes"),
    });
    assert.equal(res.status, 200);
    assert.equal(await readFile(join(h.root, "raw/data.bin"), "utf8"), "raw bytes");
  });

  it("answers file errors with their own status and code", async () => {
    const check = async (res: Response, status: number, code: string) => {
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, code);
      assert.ok(body.error.message);
    };
    await check(await h.fetch("/files?path=missing.txt"), 404, "not_found");
    await mkdir(join(h.root, "adir"), { recursive: true });
    await check(await h.fetch("/files?path=adir"), 400, "invalid_argument");
    await check(await h.fetch("/files"), 400, "invalid_argument");
    await writeFile(join(h.root, "plain"), "x");
    const underFile = await h.fetch("/files?path=plain/sub.txt", {
      method: "POST",
      body: multipart([{ name: "s", body: "s" }]),
    });
    await check(underFile, 400, "invalid_argument");
    await check(
      await h.fetch("/files?path=x", { method: "POST", body: multipart([{ name: "s", body: "s" }], "other") }),
      400,
      "invalid_argument",
    );
    await check(await h.fetch("/files?path=x", { method: "DELETE" }), 405, "invalid_argument");
    await check(await h.fetch("/init", { method: "POST", body: "{not json" }), 400, "invalid_argument");
  });

  it("gives uploaded files and new parents to the requested user", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("needs root to chown");
    const passwd = await readFile("/etc/passwd", "utf8");
    const nobody = /^nobody:[^:]*:(\d+):(\d+):/m.exec(passwd);
    if (!nobody) return t.skip("no user nobody");
    const res = await h.fetch("/files?path=owned/deep/f.txt&username=nobody", {
      method: "POST",
      body: multipart([{ name: "f", body: "mine" }]),
    });
    assert.equal(res.status, 200);
    for (const p of ["owned", "owned/deep", "owned/deep/f.txt"]) {
      const st = await stat(join(h.root, p));
      assert.equal(st.uid, Number(nobody[1]), `${p} owned by nobody`);
      assert.equal(st.gid, Number(nobody[2]));
    }
    const unknown = await h.fetch("/files?path=u.txt&username=no-such-user-q", {
      method: "POST",
      body: multipart([{ name: "f", body: "x" }]),
    });
    assert.equal(unknown.status, 400);
  });

  it("reports guest metrics", async () => {
    const res = await h.fetch("/metrics");
    assert.equal(res.status, 200);
    const m = (await res.json()) as Record<string, number>;
    for (const k of [
      "ts",
      "cpu_count",
      "cpu_used_pct",
      "mem_total_mib",
      "mem_used_mib",
      "mem_total",
      "mem_used",
      "disk_used",
      "disk_total",
    ]) {
      assert.equal(typeof m[k], "number", k);
    }
    assert.ok(m.cpu_count! >= 1);
    assert.ok(m.mem_total! > m.mem_used! && m.mem_used! > 0);
    assert.ok(m.disk_total! > m.disk_used! && m.disk_used! > 0);
    assert.ok(m.cpu_used_pct! >= 0 && m.cpu_used_pct! <= 100);
  });

  it("quiesces on /snapshot/prepare and drops pre-snapshot connections at the next /health", async () => {
    const client = h.processClient("2");
    const ac = new AbortController();
    const stream = client.start({ process: { cmd: "sleep", args: ["30"] }, tag: "snap" }, { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    const prep = await h.fetch("/snapshot/prepare", { method: "POST" });
    assert.equal(prep.status, 204);
    assert.equal(h.envd.state.needsRestore, true);
    assert.equal((await h.fetch("/health")).status, 200);
    assert.equal(h.envd.state.needsRestore, false);
    // The HTTP/2 connection carrying the stream existed at snapshot time: it is gone now.
    await assert.rejects(it.next());
    // The process itself survives; a new connection can still drive it.
    const list = await h.processClient().list({});
    assert.ok(list.processes.some((p) => p.tag === "snap"));
    await h.processClient().sendSignal({ process: { selector: { case: "tag", value: "snap" } }, signal: 9 });
    ac.abort();
  });
});

describe("envd access token", () => {
  let h: EnvdHarness;
  before(async () => {
    h = await EnvdHarness.start();
  });
  after(() => h.close());

  const init = (body: unknown, token?: string) =>
    h.fetch("/init", {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { "x-access-token": token } : {}) },
      body: JSON.stringify(body),
    });

  it("sets the token, env vars and defaults through /init", async () => {
    const res = await init({
      accessToken: "tok-1",
      envVars: { CAPSULE_VAR: "v1" },
      defaultWorkdir: "/",
      timestamp: Date.now(),
      rngSeed: Buffer.alloc(32, 7).toString("base64"),
      hostname: "capsule-1",
    });
    assert.equal(res.status, 204);
    const envs = await h.fetch("/envs", { headers: { "x-access-token": "tok-1" } });
    assert.deepEqual(await envs.json(), { CAPSULE_VAR: "v1" });
    const r = await runToEnd(
      h
        .processClient("1.1", { "x-access-token": "tok-1" })
        .start({ process: { cmd: "sh", args: ["-c", "echo $CAPSULE_VAR; pwd"] } }),
    );
    assert.equal(r.stdout, "v1\n/\n");
  });

  it("refuses requests without or with a wrong token, except GET /health", async () => {
    assert.equal((await h.fetch("/health")).status, 200);
    for (const headers of [{}, { "x-access-token": "wrong" }] as Record<string, string>[]) {
      for (const [path, method] of [
        ["/metrics", "GET"],
        ["/envs", "GET"],
        ["/files?path=x", "GET"],
        ["/files?path=x", "POST"],
        ["/snapshot/prepare", "POST"],
        ["/init", "POST"],
      ] as const) {
        const res = await h.fetch(path, { method, headers, body: method === "POST" ? "{}" : undefined });
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, "unauthenticated");
      }
      for (const v of ["1.1", "2"] as const) {
        const err = await h
          .processClient(v, headers)
          .list({})
          .catch((e: unknown) => ConnectError.from(e));
        assert.ok(err instanceof ConnectError && err.code === Code.Unauthenticated, `process.List over HTTP/${v}`);
        const fsErr = await h
          .filesystemClient(v, headers)
          .stat({ path: "/" })
          .catch((e: unknown) => ConnectError.from(e));
        assert.ok(fsErr instanceof ConnectError && fsErr.code === Code.Unauthenticated);
        const startErr = await runToEnd(h.processClient(v, headers).start({ process: { cmd: "true" } })).catch(
          (e: unknown) => ConnectError.from(e),
        );
        assert.ok(startErr instanceof ConnectError && startErr.code === Code.Unauthenticated);
      }
    }
    assert.equal((await h.fetch("/metrics", { headers: { "x-access-token": "tok-1" } })).status, 200);
  });

  it("changes the token only with the current one", async () => {
    assert.equal((await init({ accessToken: "stolen" })).status, 401);
    assert.equal((await init({ accessToken: "stolen" }, "wrong")).status, 401);
    assert.equal((await init({ accessToken: "tok-2" }, "tok-1")).status, 204);
    assert.equal((await h.fetch("/envs", { headers: { "x-access-token": "tok-1" } })).status, 401);
    assert.equal((await h.fetch("/envs", { headers: { "x-access-token": "tok-2" } })).status, 200);
  });

  it("validates /init fields", async () => {
    assert.equal((await init({ timestamp: "soon" }, "tok-2")).status, 400);
    assert.equal((await init({ envVars: { A: 1 } }, "tok-2")).status, 400);
    assert.equal((await init({ macAddress: "not-a-mac" }, "tok-2")).status, 400);
    assert.equal((await init({ hostname: "bad host!" }, "tok-2")).status, 400);
  });
});
