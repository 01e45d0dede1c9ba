import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync, readdirSync, writeSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileSpawnerHelper, type SpawnerHelper } from "./spawner-helper.ts";

// Frame types of the spawner's answers (the reference is the header of guest/wrenn-spawner.c).
const OK = 1;
const ERROR = 2;
const STDOUT = 3;
const STDERR = 4;
const STDOUT_EOF = 5;
const STDERR_EOF = 6;
const EXIT = 7;
const HEADER_BYTES = 9;
const MAX_DATA_BYTES = 65536 - HEADER_BYTES;

interface Frame {
  type: number;
  id: number;
  payload: Buffer;
  /** Which read of the channel it completed in (frames of one write usually come in one read). */
  read: number;
}

/** A finished process as the spawner reported it. */
interface Finished {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
  signal: number;
  /** Its frame types in arrival order. */
  types: number[];
  /** How many reads of the channel its EOFs and EXIT came in. */
  endReads: number;
}

/**
 * A wrenn-spawner under test: request frames in, answer frames out (decoded here, independently of envd's
 * decoder, so the binary is checked against its header), with a deadline on every wait.
 */
class Spawner {
  readonly child: ChildProcessWithoutNullStreams;
  /** Frames per id, in arrival order, until a test takes them. */
  private readonly byId = new Map<number, Frame[]>();
  private pending = Buffer.alloc(0);
  private reads = 0;
  private wake: (() => void) | undefined;

  /** Starts the binary at `path`; with `maxFds` under that RLIMIT_NOFILE. */
  constructor(path: string, maxFds?: number) {
    this.child =
      maxFds === undefined
        ? spawn(path, [], { stdio: ["pipe", "pipe", "pipe"] })
        : spawn("/bin/sh", ["-c", `ulimit -n ${maxFds} && exec "$0"`, path], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.reads += 1;
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= HEADER_BYTES) {
        const length = this.pending.readUInt32LE(5);
        if (this.pending.length < HEADER_BYTES + length) break;
        const frame = {
          type: this.pending[0] as number,
          id: this.pending.readUInt32LE(1),
          payload: this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length),
          read: this.reads,
        };
        this.pending = this.pending.subarray(HEADER_BYTES + length);
        const list = this.byId.get(frame.id);
        if (list) list.push(frame);
        else this.byId.set(frame.id, [frame]);
      }
      this.wake?.();
    });
  }

  send(...fields: Array<string | number>): void {
    this.child.stdin.write(request(...fields));
  }

  /** Polls `check` after each chunk from the spawner until it returns a value, or fails after `timeoutMs`. */
  async until<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /** The frames that arrived for `id` so far. */
  frames(id: number): Frame[] {
    return this.byId.get(id) ?? [];
  }

  /** The answer to spawn `id`: its pid and stdin fd, or its errno and stage. */
  async answer(id: number): Promise<{ pid: number; stdinFd: number } | { errno: number; stage: string }> {
    const first = await this.until(`answer to ${id}`, () => this.frames(id)[0]);
    if (first.type === ERROR)
      return { errno: first.payload.readInt32LE(0), stage: first.payload.toString("latin1", 4) };
    assert.equal(first.type, OK, `the first frame of ${id} answers its spawn`);
    assert.equal(first.payload.length, 8);
    return { pid: first.payload.readInt32LE(0), stdinFd: first.payload.readInt32LE(4) };
  }

  /** The pid of started spawn `id`. */
  async started(id: number): Promise<{ pid: number; stdinFd: number }> {
    const a = await this.answer(id);
    assert.ok("pid" in a, `spawn ${id} failed: ${JSON.stringify(a)}`);
    return a;
  }

  /** Waits for both EOFs and the EXIT of `id`, checks their order rules, and takes its frames. */
  async finished(id: number, timeoutMs = 5000): Promise<Finished> {
    const done = (f: Frame[]) => [STDOUT_EOF, STDERR_EOF, EXIT].every((t) => f.some((x) => x.type === t));
    const frames = await this.until(
      `end of ${id}`,
      () => (done(this.frames(id)) ? this.frames(id) : undefined),
      timeoutMs,
    );
    this.byId.delete(id);
    const types = frames.map((f) => f.type);
    assert.equal(types[0], OK);
    for (const t of [STDOUT_EOF, STDERR_EOF, EXIT]) assert.equal(types.filter((x) => x === t).length, 1);
    assert.ok(types.lastIndexOf(STDOUT) < types.indexOf(STDOUT_EOF), "no stdout after its EOF");
    assert.ok(types.lastIndexOf(STDERR) < types.indexOf(STDERR_EOF), "no stderr after its EOF");
    const data = (type: number) => {
      const parts = frames.filter((f) => f.type === type).map((f) => f.payload);
      for (const p of parts) assert.ok(p.length >= 1 && p.length <= MAX_DATA_BYTES, `data frame of ${p.length}`);
      return Buffer.concat(parts);
    };
    const exit = frames.find((f) => f.type === EXIT) as Frame;
    assert.equal(exit.payload.length, 8);
    return {
      stdout: data(STDOUT),
      stderr: data(STDERR),
      code: exit.payload.readInt32LE(0),
      signal: exit.payload.readInt32LE(4),
      types,
      endReads: new Set(frames.filter((f) => f.type >= STDOUT_EOF).map((f) => f.read)).size,
    };
  }

  fdCount(): number {
    return readdirSync(`/proc/${this.child.pid}/fd`).length;
  }

  async fdCountBackTo(count: number): Promise<void> {
    await this.until(`fd count ${count} (have ${this.fdCount()})`, () => (this.fdCount() === count ? true : undefined));
  }

  close(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) resolve(this.child.exitCode);
      this.child.once("exit", (code) => resolve(code));
      this.child.stdin.end();
    });
  }
}

function request(...fields: Array<string | number>): Buffer {
  const body = Buffer.concat(fields.map((f) => Buffer.from(`${f}\0`)));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

function spawnFrame(
  id: number,
  file: string,
  argv: string[],
  env: string[],
  extra: Partial<Record<string, string>> = {},
) {
  return [
    "spawn",
    id,
    file,
    extra.cwd ?? "/",
    extra.uid ?? "-",
    extra.gid ?? "-",
    extra.stdin ?? "0",
    argv.length,
    ...argv,
    env.length,
    ...env,
  ];
}

const sh = (id: number, script: string, extra: Partial<Record<string, string>> = {}) =>
  spawnFrame(id, "/bin/sh", ["sh", "-c", script], [], extra);

describe("wrenn-spawner", () => {
  let dir: string;
  let helper: SpawnerHelper;
  let s: Spawner;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-spawner-"));
    helper = await compileSpawnerHelper(join(dir, "bin"), join(dir, "scratch"));
    s = new Spawner(helper.path);
  });
  after(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("compiles to a binary named by the source hash", () => {
    assert.match(helper.path, /wrenn-spawner-[0-9a-f]{16}$/);
  });

  it("starts a process with argv, env and cwd byte for byte, relays its output, EOFs, then its exit code", async () => {
    const script = 'printf "%s|%s|%s" "$1" "$X" "$PWD"; printf oops >&2; exit 3';
    s.send(...spawnFrame(1, "/bin/sh", ["sh", "-c", script, "sh", "a\nb"], ["X=c\nd"], { cwd: "/tmp" }));
    assert.equal((await s.started(1)).stdinFd, -1);
    const r = await s.finished(1);
    assert.equal(r.stdout.toString(), "a\nb|c\nd|/tmp");
    assert.equal(r.stderr.toString(), "oops");
    assert.deepEqual([r.code, r.signal], [3, 0]);
    // What the spawner could read when it reaped the process goes first: without a grandchild, all of it.
    assert.equal(r.types.at(-1), EXIT);
  });

  it("sends the EOFs and EXIT of a process that closes its output just before it exits in one write", async () => {
    // As every exiting process does, a moment apart: the kernel closes its files (the EOFs), then signals the
    // parent (the EXIT). The spawner waits for that moment, so envd wakes once for both; here the moment is a
    // `sleep` of a millisecond, long enough that without the wait they come in separate writes.
    const runs = 12;
    let together = 0;
    for (let i = 0; i < runs; i++) {
      s.send(...sh(500 + i, "exec >&- 2>&-; sleep 0.001"));
      if ((await s.finished(500 + i)).endReads === 1) together += 1;
    }
    assert.ok(together >= runs * 0.75, `EOFs and EXIT came together for ${together} of ${runs} processes`);
  });

  it("goes on relaying a process's stderr after its stdout closed (the wait for the second EOF ends)", async () => {
    s.send(...sh(3, "exec >&-; printf a >&2; sleep 0.05; printf b >&2; exit 4"));
    const r = await s.finished(3);
    assert.equal(r.stderr.toString(), "ab");
    assert.deepEqual([r.code, r.signal], [4, 0]);
    assert.deepEqual(
      r.types.filter((t) => t >= STDOUT_EOF),
      [STDOUT_EOF, STDERR_EOF, EXIT],
    );
  });

  it("reports a signal death with the signal number, and leads its own process group", async () => {
    s.send(...sh(2, "kill -9 $$"));
    const killed = await s.finished(2);
    assert.deepEqual([killed.code, killed.signal], [-1, 9]);
    s.send(...spawnFrame(3, "/bin/cat", ["cat", "/proc/self/stat"], []));
    const { pid } = await s.started(3);
    const text = (await s.finished(3)).stdout.toString();
    // /proc/PID/stat after "(comm) ": state, ppid, pgrp, session.
    const [, , pgrp, session] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    assert.deepEqual([pgrp, session], [String(pid), String(pid)]);
  });

  it("answers exec, chdir and setuid failures with their errno and stage, and nothing else", async () => {
    s.send(...spawnFrame(4, "/no/such/file", ["x"], []));
    assert.deepEqual(await s.answer(4), { errno: 2, stage: "exec" });
    s.send(...spawnFrame(5, "/bin/true", ["true"], [], { cwd: "/no/such/dir" }));
    assert.deepEqual(await s.answer(5), { errno: 2, stage: "chdir" });
    const noExec = join(dir, "not-executable");
    await writeFile(noExec, "", { mode: 0o644 });
    s.send(...spawnFrame(6, noExec, ["x"], []));
    assert.deepEqual(await s.answer(6), { errno: 13, stage: "exec" });
    if (process.getuid?.() !== 0) {
      s.send(...spawnFrame(7, "/bin/true", ["true"], [], { uid: "0", gid: "0" }));
      assert.deepEqual(await s.answer(7), { errno: 1, stage: "setgid" });
    }
    // A later process's whole life has passed: anything about the failed ones would have come by now.
    s.send(...spawnFrame(11, "/bin/true", ["true"], []));
    await s.finished(11);
    for (const id of [4, 5, 6, 7]) assert.ok(s.frames(id).length <= 1, `frames of ${id}`);
  });

  it("runs an executable text file without #! with /bin/sh, as execvp does", async () => {
    const script = join(dir, "no-shebang");
    await writeFile(script, 'echo "script:$1"\n', { mode: 0o755 });
    s.send(...spawnFrame(10, script, [script, "arg"], []));
    assert.equal((await s.finished(10)).stdout.toString(), "script:arg\n");
  });

  it("switches to the given uid and gid when run as root", {
    skip: process.getuid?.() !== 0 && "needs root",
  }, async () => {
    s.send(...sh(8, "echo $(id -u) $(id -g) $(id -G)", { uid: "65534", gid: "65534" }));
    assert.equal((await s.finished(8)).stdout.toString(), "65534 65534 65534\n");
  });

  it("gives stdin as a pipe that reaches EOF once envd's copy and, after release, the spawner's are closed", async () => {
    s.send(...spawnFrame(9, "/bin/cat", ["cat"], [], { stdin: "1" }));
    const { stdinFd } = await s.started(9);
    assert.ok(stdinFd >= 0);
    const stdin = openSync(`/proc/${s.child.pid}/fd/${stdinFd}`, constants.O_WRONLY);
    s.send("release", 9);
    writeSync(stdin, "piped\n");
    closeSync(stdin);
    const r = await s.finished(9);
    assert.equal(r.stdout.toString(), "piped\n");
    assert.deepEqual([r.code, r.signal], [0, 0]);
  });

  it("relays more than 1 MiB of binary output on each stream byte for byte, in order per stream", async () => {
    const [a, b] = [randomBytes(1536 * 1024 + 7), randomBytes(1280 * 1024 + 3)];
    await writeFile(join(dir, "a.bin"), a);
    await writeFile(join(dir, "b.bin"), b);
    // Both streams at once, so their frames interleave.
    s.send(...sh(12, "cat a.bin & cat b.bin >&2; wait", { cwd: dir }));
    const r = await s.finished(12, 15_000);
    assert.ok(r.stdout.equals(a), `stdout: ${r.stdout.length} bytes of ${a.length}`);
    assert.ok(r.stderr.equals(b), `stderr: ${r.stderr.length} bytes of ${b.length}`);
    assert.equal(r.code, 0);
  });

  it("stops reading a paused process, which then blocks on its full pipe, and lets it finish on resume", async () => {
    // One write: the spawner takes the pause with the spawn, before it ever reads the new pipes.
    s.child.stdin.write(
      Buffer.concat([
        request(...spawnFrame(13, "/usr/bin/head", ["head", "-c", "1048576", "/dev/zero"], [])),
        request("pause", 13),
      ]),
    );
    await s.started(13);
    await new Promise((r) => setTimeout(r, 500));
    const types = s.frames(13).map((f) => f.type);
    assert.ok(!types.includes(EXIT), "head cannot write 1 MiB into a pipe nobody reads");
    assert.ok(!types.includes(STDOUT_EOF));
    s.send("resume", 13);
    const r = await s.finished(13);
    assert.equal(r.stdout.length, 1048576);
    assert.deepEqual([r.code, r.signal], [0, 0]);
  });

  it("sends EXIT without EOFs while a background child holds the pipes, and closes them on forget", async () => {
    s.send(...spawnFrame(14, "/bin/true", ["true"], []));
    await s.finished(14);
    const baseline = s.fdCount();
    s.send(...sh(15, "sleep 30 & echo bg=$!"));
    await s.until("exit of 15", () => s.frames(15).find((f) => f.type === EXIT));
    const stdout = Buffer.concat(
      s
        .frames(15)
        .filter((f) => f.type === STDOUT)
        .map((f) => f.payload),
    ).toString();
    const bg = Number(/bg=(\d+)/.exec(stdout)?.[1]);
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(!s.frames(15).some((f) => f.type === STDOUT_EOF || f.type === STDERR_EOF), "the pipes are still open");
      assert.equal(s.fdCount(), baseline + 2, "the spawner still reads both pipes");
      s.send("forget", 15);
      await s.fdCountBackTo(baseline);
    } finally {
      process.kill(bg, "SIGKILL");
    }
    // Nothing more about a forgotten process.
    s.send(...spawnFrame(16, "/bin/true", ["true"], []));
    await s.finished(16);
    assert.deepEqual([...new Set(s.frames(15).map((f) => f.type))], [OK, STDOUT, EXIT]);
  });

  it("starts 200 processes without keeping any fd once each finished and was released", async () => {
    const before = s.fdCount();
    for (let i = 0; i < 200; i++) {
      const id = 100 + i;
      s.send(...spawnFrame(id, "/bin/true", ["true"], [], { stdin: i % 2 ? "1" : "0" }));
      if (i % 2) s.send("release", id);
    }
    for (let i = 0; i < 200; i++) assert.deepEqual([(await s.finished(100 + i)).code], [0]);
    // `release` has no answer: the last ones may still be unread when the last exit arrives. Wait for the
    // spawner to catch up, bounded.
    await s.fdCountBackTo(before);
  });

  it("answers a malformed request with an error and keeps serving", async () => {
    s.send("spawn", 300, "/bin/true", "/", "-", "-", "0", 5, "only-one");
    assert.deepEqual(await s.answer(300), { errno: 22, stage: "request" });
    s.send("bogus");
    assert.deepEqual(await s.answer(0), { errno: 22, stage: "request" });
    s.send("spawn", 301, "/bin/true", "/", "x", "-", "0", 1, "true", 0);
    assert.deepEqual(await s.answer(301), { errno: 22, stage: "request" });
    s.send("spawn", 0, "/bin/true", "/", "-", "-", "0", 1, "true", 0);
    await s.until("a second id-0 error", () => (s.frames(0).length === 2 ? true : undefined));
    // Requests about ids it does not hold are ignored.
    s.send("pause", 999);
    s.send("forget", 0);
    s.send(...spawnFrame(302, "/bin/true", ["true"], []));
    assert.equal((await s.finished(302)).code, 0);
  });

  it("refuses a spawn with EMFILE once its process table is full (as many as its fd limit), then serves again", async () => {
    const small = new Spawner(helper.path, 16);
    try {
      // Processes that closed their output stay in the table without holding a pipe.
      const quiet = "exec >&- 2>&-; exec sleep 30";
      const pids: number[] = [];
      for (let id = 1; id <= 16; id++) {
        small.send(...sh(id, quiet));
        pids.push((await small.started(id)).pid);
        // Once its EOFs came, the spawner holds no fd for it: only the table limits the next spawn.
        await small.until(`EOFs of ${id}`, () =>
          small.frames(id).filter((f) => f.type === STDOUT_EOF || f.type === STDERR_EOF).length === 2
            ? true
            : undefined,
        );
      }
      small.send(...sh(17, quiet));
      assert.deepEqual(await small.answer(17), { errno: 24, stage: "pipe" });
      for (const pid of pids) process.kill(pid, "SIGKILL");
      for (let id = 1; id <= 16; id++) {
        const r = await small.finished(id);
        assert.deepEqual([r.code, r.signal], [-1, 9]);
      }
      small.send(...spawnFrame(18, "/bin/echo", ["echo", "again"], []));
      assert.equal((await small.finished(18)).stdout.toString(), "again\n");
    } finally {
      await small.close();
    }
  });

  it("exits 0 when its stdin closes", async () => {
    const other = new Spawner(helper.path);
    assert.equal(await other.close(), 0);
  });
});
