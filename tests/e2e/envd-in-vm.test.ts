/**
 * envd inside a real capsule VM, spoken to directly on its forwarded port with the capsule's access token (the
 * agent out of the path): process streams, signals, stdin, concurrency and reattach; filesystem RPCs and their
 * error codes; WatchDir and the polling watcher; /files, /metrics, /health and the token check. The host-side unit
 * tests (apps/envd/src/**) cover the same API on a plain host; this file catches what only the guest changes
 * (wrenn-spawner, users from the image's /etc/passwd, ext4 flags, inotify, QEMU's port forward).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { filesystem as fsPb, process as pb } from "@wrenn/protocol";
import type { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, processesMentioning, vmSkipReason, waitFor } from "./agent-harness/vm-host.ts";
import { assertGone, FIRST_CREATE_MS, OP_MS, sh, startAgent } from "./persist-harness.ts";

const skip = vmSkipReason();
const CAPSULE = "cl-envd-vm";
/** Deadline of one envd call or stream; generous because the guest runs under TCG. */
const STEP_MS = 60_000;
/** 20 MiB: large enough to cross many socket buffers and busboy chunks. */
const UPLOAD_BYTES = 20 * 1024 * 1024;

type StartInit = MessageInitShape<typeof pb.StartRequestSchema>;
type Run = { pid: number; stdout: string; stderr: string; end: pb.ProcessEvent_EndEvent | undefined };

const shell = (script: string, extra: { tag?: string; stdin?: boolean } = {}): StartInit => ({
  process: { cmd: "/bin/sh", args: ["-c", script] },
  ...extra,
});

/** Drains a Start/Connect stream: pid, stdout and stderr each in arrival order, and the end event. */
async function collect(stream: AsyncIterable<{ event?: pb.ProcessEvent }>): Promise<Run> {
  const run: Run = { pid: 0, stdout: "", stderr: "", end: undefined };
  for await (const res of stream) {
    const ev = res.event?.event;
    if (ev?.case === "start") run.pid = ev.value.pid;
    else if (ev?.case === "end") run.end = ev.value;
    else if (ev?.case === "data") {
      const out = ev.value.output;
      if (out.case === "stdout" || out.case === "stderr") run[out.case] += Buffer.from(out.value).toString("utf8");
    }
  }
  return run;
}

/** The rest of a stream whose first events the test already read. */
const rest = <T>(it: AsyncIterator<T>): AsyncIterable<T> => ({ [Symbol.asyncIterator]: () => it });

/** Reads events until the start event and returns its pid. */
async function pidOf(it: AsyncIterator<{ event?: pb.ProcessEvent }>): Promise<number> {
  const first = await it.next();
  const ev = first.value?.event?.event;
  assert.equal(ev?.case, "start", "a process stream opens with its start event");
  return ev.case === "start" ? ev.value.pid : 0;
}

async function codeOf(p: Promise<unknown>): Promise<Code> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  assert.fail("expected the call to fail");
}

describe("envd inside a capsule VM", { skip, timeout: 900_000 }, () => {
  let root: string;
  let agent: AgentProcess;
  let baseUrl: string;
  let token: string;
  let vcpus: number;

  /** Connect clients on the capsule's envd port: HTTP/1.1 (one connection per call) and binary, unless asked. */
  const clients = (headers: Record<string, string>, httpVersion: "1.1" | "2" = "1.1", json = false) => {
    const transport = createConnectTransport({
      baseUrl,
      httpVersion,
      useBinaryFormat: !json,
      interceptors: [
        (next) => (req) => {
          for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
          return next(req);
        },
      ],
    });
    return { proc: createClient(pb.Process, transport), fs: createClient(fsPb.Filesystem, transport) };
  };
  let proc: Client<typeof pb.Process>;
  let fs: Client<typeof fsPb.Filesystem>;
  const asUser = (name: string) =>
    clients({ "X-Access-Token": token, Authorization: `Basic ${Buffer.from(`${name}:`).toString("base64")}` });
  const envdFetch = (
    path: string,
    init: RequestInit = {},
    headers: Record<string, string> = { "X-Access-Token": token },
  ) =>
    fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { ...headers, ...init.headers },
      signal: AbortSignal.timeout(STEP_MS),
    });
  /** Runs a shell script through envd and asserts it exits 0. */
  const run = async (script: string): Promise<Run> => {
    const r = await collect(proc.start(shell(script), { timeoutMs: STEP_MS }));
    assert.equal(r.end?.exitCode, 0, `\`${script}\` exited ${r.end?.exitCode}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    ({ root, agent } = await startAgent());
    const created = await agent.client.createCapsule(
      { capsuleId: CAPSULE, teamId: "team-envd", template: "minimal", memoryMb: 256 },
      { timeoutMs: FIRST_CREATE_MS },
    );
    vcpus = created.capsule?.vcpus ?? 0;
    const record = JSON.parse(await readFile(join(root, "sandboxes", CAPSULE, "capsule.json"), "utf8")) as {
      hostPort: number;
      accessToken: string;
    };
    assert.ok(record.hostPort > 0 && record.accessToken, "capsule.json names envd's port and token");
    baseUrl = `http://127.0.0.1:${record.hostPort}`;
    token = record.accessToken;
    ({ proc, fs } = clients({ "X-Access-Token": token }));
  });
  after(async () => {
    await agent?.kill();
    if (root) await cleanupRoot(root);
  });

  describe("process service", () => {
    it("streams stdout and stderr separately, each in order, then the exit code", async () => {
      const r = await collect(
        proc.start(shell("for i in 1 2 3; do echo o$i; echo e$i >&2; done; exit 7"), { timeoutMs: STEP_MS }),
      );
      assert.ok(r.pid > 1);
      assert.equal(r.stdout, "o1\no2\no3\n");
      assert.equal(r.stderr, "e1\ne2\ne3\n");
      assert.equal(r.end?.exitCode, 7);
      assert.equal(r.end?.exited, true);
      assert.equal(r.end?.status, "exit status 7");
    });

    it("answers JSON-encoded calls (the default of Connect's web clients) as it answers binary ones", async () => {
      const json = clients({ "X-Access-Token": token }, "1.1", true);
      // Output that is not UTF-8 travels as base64 in JSON; 200 KiB spans several output chunks.
      const script = "printf 'a\\377\\000b'; head -c 204800 /dev/zero | tr '\\0' x; echo e >&2; exit 3";
      const r = await collect(json.proc.start(shell(script), { timeoutMs: STEP_MS }));
      const binary = await collect(proc.start(shell(script), { timeoutMs: STEP_MS }));
      assert.equal(r.stdout.length, 4 + 204_800);
      assert.deepEqual({ ...r, pid: 0 }, { ...binary, pid: 0 });
      assert.equal(r.end?.exitCode, 3);
      const listed = await json.fs.listDir({ path: "/etc", depth: 1 }, { timeoutMs: STEP_MS });
      assert.ok(listed.entries.some((e) => e.name === "passwd"));
      assert.equal(await codeOf(json.fs.stat({ path: "/no/such/file" }, { timeoutMs: STEP_MS })), Code.NotFound);
    });

    it("reports a SIGKILLed process as killed, not exited", async () => {
      const it = proc
        .start({ process: { cmd: "sleep", args: ["100"] } }, { timeoutMs: STEP_MS })
        [Symbol.asyncIterator]();
      const pid = await pidOf(it);
      await proc.sendSignal(
        { process: { selector: { case: "pid", value: pid } }, signal: pb.Signal.SIGKILL },
        { timeoutMs: STEP_MS },
      );
      const r = await collect(rest(it));
      assert.equal(r.end?.exited, false);
      assert.equal(r.end?.status, "signal: killed");
      assert.equal(r.end?.exitCode, -1);
    });

    it("feeds stdin through SendInput and ends it with CloseStdin", async () => {
      const it = proc.start({ process: { cmd: "cat" }, stdin: true }, { timeoutMs: STEP_MS })[Symbol.asyncIterator]();
      const sel = { selector: { case: "pid" as const, value: await pidOf(it) } };
      const bytes = Buffer.from([0x68, 0x69, 0x0a, 0x00, 0xff, 0x0a]);
      await proc.sendInput({ process: sel, input: { input: { case: "stdin", value: bytes } } }, { timeoutMs: STEP_MS });
      await proc.closeStdin({ process: sel }, { timeoutMs: STEP_MS });
      const out: number[] = [];
      let end: pb.ProcessEvent_EndEvent | undefined;
      for await (const res of rest(it)) {
        const ev = res.event?.event;
        if (ev?.case === "data" && ev.value.output.case === "stdout") out.push(...ev.value.output.value);
        if (ev?.case === "end") end = ev.value;
      }
      assert.deepEqual(out, [...bytes], "cat echoes the bytes unchanged");
      assert.equal(end?.exitCode, 0);
    });

    /** Starts 30 short processes at once through `client`; each must end with its own output and exit code. */
    const runThirty = async (client: Client<typeof pb.Process>) => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          collect(client.start(shell(`echo n=${i}; exit ${i % 5}`), { timeoutMs: STEP_MS })),
        ),
      );
      results.forEach((r, i) => {
        const seen = `process ${i} (pid ${r.pid}): stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}, end ${r.end?.status}`;
        assert.equal(r.stdout, `n=${i}\n`, seen);
        assert.equal(r.end?.exitCode, i % 5, seen);
      });
      assert.equal(new Set(results.map((r) => r.pid)).size, 30, "thirty distinct processes");
    };

    it("runs 30 concurrent short processes over one HTTP/2 connection, each with its own output and exit code", () =>
      runThirty(clients({ "X-Access-Token": token }, "2").proc));

    // Not over 30 fresh HTTP/1.1 connections: QEMU's port forward listens with a backlog of 1 (libslirp), so such a
    // burst loses connections to ECONNRESET. The agent, envd's only production client, multiplexes one HTTP/2
    // connection instead; this is that path.
    it("runs 30 concurrent commands through the agent, each with its own output", async () => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          agent.client.exec({ capsuleId: CAPSULE, cmd: `echo n=${i}`, timeoutSec: 60 }, { timeoutMs: OP_MS }),
        ),
      );
      results.forEach((r, i) => {
        assert.equal(r.exitCode, 0, `command ${i}: ${Buffer.from(r.stderr).toString()}`);
        assert.equal(Buffer.from(r.stdout).toString(), `n=${i}\n`);
      });
    });

    it("lists a tagged background process and Connect by tag receives its later output", async () => {
      const ac = new AbortController();
      const started = proc.start(
        shell("while read l; do echo got:$l; done; echo bye", { tag: "e2e-bg", stdin: true }),
        {
          signal: ac.signal,
          timeoutMs: STEP_MS,
        },
      );
      const it = started[Symbol.asyncIterator]();
      const pid = await pidOf(it);
      ac.abort(); // the client goes away; the process must not
      await it.next().catch(() => undefined);

      const listed = await proc.list({}, { timeoutMs: STEP_MS });
      const info = listed.processes.find((p) => p.tag === "e2e-bg");
      assert.equal(info?.pid, pid);
      assert.equal(info?.config?.cmd, "/bin/sh");

      const attached = proc
        .connect({ process: { selector: { case: "tag", value: "e2e-bg" } } }, { timeoutMs: STEP_MS })
        [Symbol.asyncIterator]();
      assert.equal(await pidOf(attached), pid);
      const sel = { selector: { case: "tag" as const, value: "e2e-bg" } };
      await proc.sendInput(
        { process: sel, input: { input: { case: "stdin", value: Buffer.from("later\n") } } },
        { timeoutMs: STEP_MS },
      );
      await proc.closeStdin({ process: sel }, { timeoutMs: STEP_MS });
      const r = await collect(rest(attached));
      assert.equal(r.stdout, "got:later\nbye\n", "output written after the reattach arrives on it");
      assert.equal(r.end?.exitCode, 0);
      const after = await proc.list({}, { timeoutMs: STEP_MS });
      assert.ok(!after.processes.some((p) => p.tag === "e2e-bg"), "an ended process leaves the list");
    });

    it("runs envd without V8's JIT under TCG, and no process it starts inherits that setting", async () => {
      // The agent passes NODE_OPTIONS=--jitless on the kernel command line of TCG guests only; init's environment
      // carries it to envd.
      const [qemu] = await processesMentioning(`wrenn-${CAPSULE}`);
      assert.ok(qemu, "the capsule's QEMU runs");
      const isTcg = (await readFile(`/proc/${qemu}/cmdline`, "utf8")).split("\0").some((a) => a.startsWith("tcg"));
      const envdEnv = await run(
        "for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = envd ] && tr '\\0' '\\n' < $p/environ; done | grep '^NODE_OPTIONS=' || true",
      );
      assert.equal(envdEnv.stdout.trim(), isTcg ? "NODE_OPTIONS=--jitless" : "");
      const own = await run("env | grep '^NODE_OPTIONS=' || echo none");
      assert.equal(own.stdout.trim(), "none");
    });

    it("turns off address-space randomization under TCG only, so commands reuse the emulator's translations", async () => {
      const [qemu] = await processesMentioning(`wrenn-${CAPSULE}`);
      assert.ok(qemu, "the capsule's QEMU runs");
      const isTcg = (await readFile(`/proc/${qemu}/cmdline`, "utf8")).split("\0").some((a) => a.startsWith("tcg"));
      const r = await run("cat /proc/sys/kernel/randomize_va_space; grep -m1 libc /proc/self/maps | cut -d- -f1");
      const [level, libcBase] = r.stdout.trim().split("\n");
      assert.equal(level, isTcg ? "0" : "2");
      if (isTcg) {
        const again = await run("grep -m1 libc /proc/self/maps | cut -d- -f1");
        assert.equal(again.stdout.trim(), libcBase, "libc maps at the same address in every process");
      }
    });

    it("runs a process as the image's unprivileged user, who is denied root's files", async () => {
      const r = await collect(
        asUser("user").proc.start(shell('id -un; echo "$HOME"; pwd; touch /root/e2e-denied'), { timeoutMs: STEP_MS }),
      );
      assert.equal(r.stdout, "user\n/home/user\n/home/user\n");
      assert.match(r.stderr, /Permission denied/);
      assert.equal(r.end?.exitCode, 1);
    });
  });

  describe("filesystem service", () => {
    it("makes directories with parents, stats, lists with depth, moves and removes", async () => {
      const made = (await fs.makeDir({ path: "e2e-fs/a/b/c" }, { timeoutMs: STEP_MS })).entry;
      assert.equal(made?.path, "/root/e2e-fs/a/b/c", "relative paths resolve against root's home");
      assert.equal(made?.type, fsPb.FileType.DIRECTORY);
      await run("printf hello > /root/e2e-fs/top.txt");
      const st = (await fs.stat({ path: "/root/e2e-fs/top.txt" }, { timeoutMs: STEP_MS })).entry;
      assert.equal(st?.type, fsPb.FileType.FILE);
      assert.equal(st?.name, "top.txt");
      assert.equal(st?.size, 5n);
      assert.equal(st?.owner, "root");

      const names = async (depth: number) =>
        (await fs.listDir({ path: "e2e-fs", depth }, { timeoutMs: STEP_MS })).entries
          .map((e) => e.path.slice("/root/e2e-fs/".length))
          .sort();
      assert.deepEqual(await names(1), ["a", "top.txt"]);
      assert.deepEqual(await names(2), ["a", "a/b", "top.txt"]);

      const moved = (
        await fs.move({ source: "e2e-fs/top.txt", destination: "e2e-fs/new/n.txt" }, { timeoutMs: STEP_MS })
      ).entry;
      assert.equal(moved?.path, "/root/e2e-fs/new/n.txt");
      assert.equal((await run("cat /root/e2e-fs/new/n.txt")).stdout, "hello");
      assert.equal(await codeOf(fs.stat({ path: "e2e-fs/top.txt" }, { timeoutMs: STEP_MS })), Code.NotFound);

      await fs.remove({ path: "e2e-fs" }, { timeoutMs: STEP_MS });
      assert.equal((await run("test -e /root/e2e-fs || echo gone")).stdout, "gone\n");
    });

    it("answers not_found, invalid_argument for a non-directory and already_exists", async () => {
      await run("mkdir -p /root/e2e-err/dir && echo x > /root/e2e-err/file");
      assert.equal(await codeOf(fs.stat({ path: "/root/e2e-err/missing" }, { timeoutMs: STEP_MS })), Code.NotFound);
      assert.equal(await codeOf(fs.remove({ path: "/root/e2e-err/missing" }, { timeoutMs: STEP_MS })), Code.NotFound);
      assert.equal(
        await codeOf(fs.listDir({ path: "/root/e2e-err/file" }, { timeoutMs: STEP_MS })),
        Code.InvalidArgument,
        "ListDir of a file: not a directory",
      );
      assert.equal(await codeOf(fs.makeDir({ path: "/root/e2e-err/dir" }, { timeoutMs: STEP_MS })), Code.AlreadyExists);
      assert.equal(
        await codeOf(fs.makeDir({ path: "/root/e2e-err/file" }, { timeoutMs: STEP_MS })),
        Code.AlreadyExists,
      );
      await fs.remove({ path: "/root/e2e-err" }, { timeoutMs: STEP_MS });
    });

    it("answers permission_denied for an immutable file, which even root may not remove or move", async () => {
      // envd runs as root in the guest, so mode bits never stop it; the immutable flag (EPERM) does.
      await run("echo x > /root/e2e-guarded && chattr +i /root/e2e-guarded");
      try {
        assert.equal(
          await codeOf(fs.remove({ path: "/root/e2e-guarded" }, { timeoutMs: STEP_MS })),
          Code.PermissionDenied,
        );
        assert.equal(
          await codeOf(fs.move({ source: "/root/e2e-guarded", destination: "/root/e2e-g2" }, { timeoutMs: STEP_MS })),
          Code.PermissionDenied,
        );
      } finally {
        await run("chattr -i /root/e2e-guarded && rm /root/e2e-guarded");
      }
    });

    it("resolves paths against the requesting user's home and gives what it makes to that user", async () => {
      const made = (await asUser("user").fs.makeDir({ path: "~/e2e-owned/x" }, { timeoutMs: STEP_MS })).entry;
      assert.equal(made?.path, "/home/user/e2e-owned/x");
      assert.equal(made?.owner, "user");
      assert.equal((await run("stat -c %U /home/user/e2e-owned")).stdout, "user\n", "new parents belong to user too");
      await run("rm -r /home/user/e2e-owned");
    });
  });

  describe("watchers", () => {
    /** Opens WatchDir on a fresh `dir`, runs `body` with a bounded wait for an event, then closes the stream. */
    const watching = async (
      dir: string,
      body: (seen: (e: string) => Promise<void>, events: string[]) => Promise<void>,
    ) => {
      await run(`rm -rf ${dir} && mkdir ${dir}`);
      const ac = new AbortController();
      const events: string[] = [];
      const it = fs.watchDir({ path: dir }, { signal: ac.signal, timeoutMs: 120_000 })[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.event.case, "start");
      const pump = (async () => {
        for (;;) {
          const r = await it.next().catch(() => ({ done: true as const, value: undefined }));
          if (r.done) return;
          const ev = r.value.event;
          if (ev.case === "filesystem") events.push(`${fsPb.EventType[ev.value.type]}:${ev.value.name}`);
        }
      })();
      const seen = async (e: string) =>
        assert.ok(await waitFor(async () => events.includes(e), 30_000), `${e} among [${events.join(", ")}]`);
      try {
        await body(seen, events);
      } finally {
        ac.abort();
        await pump;
      }
      await run(`rm -r ${dir}`);
    };

    it("streams create, write and remove from WatchDir", () =>
      watching("/root/e2e-w", async (seen) => {
        await run("echo 1 > /root/e2e-w/a.txt");
        await seen("CREATE:a.txt");
        await run("echo 2 >> /root/e2e-w/a.txt");
        await seen("WRITE:a.txt");
        await run("rm /root/e2e-w/a.txt");
        await seen("REMOVE:a.txt");
      }));

    it("streams a rename from WatchDir as RENAME of the old name and CREATE of the new, never as a removal", () =>
      watching("/root/e2e-r", async (seen, events) => {
        // Three rounds, each on a file created under the watch, as a user's program would do it.
        for (const n of [1, 2, 3]) {
          await run(`echo ${n} > /root/e2e-r/a${n} && echo more >> /root/e2e-r/a${n}`);
          await seen(`WRITE:a${n}`);
          await run(`mv /root/e2e-r/a${n} /root/e2e-r/b${n}`);
          await seen(`CREATE:b${n}`);
          // The old name's half arrives within the pairing window: as RENAME, or wrongly as REMOVE.
          const half = (e: string) => events.includes(e);
          await waitFor(async () => half(`RENAME:a${n}`) || half(`REMOVE:a${n}`), 30_000);
          assert.ok(half(`RENAME:a${n}`) && !half(`REMOVE:a${n}`), `RENAME:a${n}, no REMOVE: [${events.join(", ")}]`);
        }
      }));

    it("serves the polling watcher: create, get events, remove", async () => {
      await run("rm -rf /root/e2e-poll && mkdir /root/e2e-poll");
      const { watcherId } = await fs.createWatcher({ path: "/root/e2e-poll" }, { timeoutMs: STEP_MS });
      assert.ok(watcherId);
      await run("echo 1 > /root/e2e-poll/one");
      const got: string[] = [];
      assert.ok(
        await waitFor(async () => {
          const { events } = await fs.getWatcherEvents({ watcherId }, { timeoutMs: STEP_MS });
          got.push(...events.map((e) => `${fsPb.EventType[e.type]}:${e.name}`));
          return got.includes("CREATE:one");
        }, 30_000),
        `CREATE:one among [${got.join(", ")}]`,
      );
      await fs.removeWatcher({ watcherId }, { timeoutMs: STEP_MS });
      assert.equal(await codeOf(fs.getWatcherEvents({ watcherId }, { timeoutMs: STEP_MS })), Code.NotFound);
      await run("rm -r /root/e2e-poll");
    });
  });

  describe("HTTP endpoints", () => {
    it("uploads 20 MiB of random bytes through /files and downloads the same bytes back", async () => {
      const data = randomBytes(UPLOAD_BYTES);
      const sha = createHash("sha256").update(data).digest("hex");
      const form = new FormData();
      form.append("file", new Blob([data]), "big.bin");
      const up = await envdFetch("/files?path=/root/e2e-big.bin", { method: "POST", body: form });
      assert.equal(up.status, 200);
      assert.deepEqual(await up.json(), [{ path: "/root/e2e-big.bin", name: "e2e-big.bin", type: "file" }]);
      assert.equal((await run("sha256sum /root/e2e-big.bin")).stdout.split(" ")[0], sha, "the guest's disk has it");

      const down = await envdFetch("/files?path=/root/e2e-big.bin");
      assert.equal(down.status, 200);
      assert.equal(down.headers.get("content-length"), String(UPLOAD_BYTES));
      const body = Buffer.from(await down.arrayBuffer());
      assert.equal(body.length, UPLOAD_BYTES);
      assert.equal(createHash("sha256").update(body).digest("hex"), sha);
      await run("rm /root/e2e-big.bin");
    });

    it("reports plausible guest CPU, memory and disk on /metrics", async () => {
      const res = await envdFetch("/metrics");
      assert.equal(res.status, 200);
      const m = (await res.json()) as Record<string, number>;
      assert.equal(m.cpu_count, vcpus, "one CPU per vCPU of the capsule");
      assert.ok(m.cpu_used_pct! >= 0 && m.cpu_used_pct! <= 100, `cpu_used_pct ${m.cpu_used_pct}`);
      // The kernel keeps some of the 256 MiB for itself, so MemTotal is a little below it.
      assert.ok(m.mem_total_mib! > 128 && m.mem_total_mib! <= 256, `mem_total_mib ${m.mem_total_mib}`);
      assert.equal(m.mem_total_mib, Math.floor(m.mem_total! / 1048576));
      assert.ok(m.mem_used! > 0 && m.mem_used! < m.mem_total!, `mem_used ${m.mem_used} of ${m.mem_total}`);
      assert.ok(m.disk_used! > 0 && m.disk_used! < m.disk_total!, `disk_used ${m.disk_used} of ${m.disk_total}`);
      assert.ok(m.disk_total! >= 1024 ** 3, `disk_total ${m.disk_total}: the root disk is at least 1 GiB`);
      // /init set the guest clock from the host's.
      assert.ok(Math.abs(m.ts! - Date.now() / 1000) < 300, `guest clock ${m.ts} near the host's`);
    });

    it("refuses requests without or with a wrong token, and answers /health without one", async () => {
      for (const headers of [{}, { "X-Access-Token": "not-the-token" }] as Record<string, string>[]) {
        const label = "X-Access-Token" in headers ? "a wrong token" : "no token";
        assert.equal(await codeOf(clients(headers).proc.list({}, { timeoutMs: STEP_MS })), Code.Unauthenticated, label);
        assert.equal(
          await codeOf(clients(headers).fs.stat({ path: "/" }, { timeoutMs: STEP_MS })),
          Code.Unauthenticated,
          label,
        );
        const down = await envdFetch("/files?path=/etc/hostname", {}, headers);
        assert.equal(down.status, 401, `GET /files with ${label}`);
        assert.equal(((await down.json()) as { error: { code: string } }).error.code, "unauthenticated");
        const form = new FormData();
        form.append("file", new Blob(["x"]), "x");
        const up = await envdFetch("/files?path=/root/e2e-unauth", { method: "POST", body: form }, headers);
        assert.equal(up.status, 401, `POST /files with ${label}`);
        await up.body?.cancel();
      }
      assert.equal((await run("test -e /root/e2e-unauth || echo absent")).stdout, "absent\n");
      const health = await envdFetch("/health", {}, {});
      assert.equal(health.status, 200);
      assert.match(((await health.json()) as { version: string }).version, /\S/);
    });
  });

  it("leaves nothing behind once the capsule is destroyed", async () => {
    assert.equal(await sh(agent, CAPSULE, "echo still-up"), "still-up", "the agent still drives the capsule");
    await agent.client.destroyCapsule({ capsuleId: CAPSULE }, { timeoutMs: OP_MS });
    await assertGone(root, CAPSULE);
  });
});
