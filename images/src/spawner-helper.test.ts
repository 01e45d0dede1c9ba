import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { closeSync, constants, openSync, readdirSync, readSync, writeSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileSpawnerHelper, type SpawnerHelper } from "./spawner-helper.ts";

/** A wrenn-spawner under test: frames in, lines out, with a deadline on every wait. */
class Spawner {
  readonly child: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private tail = "";
  private wake: (() => void) | undefined;

  constructor(path: string) {
    this.child = spawn(path, [], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8").on("data", (c: string) => {
      const parts = (this.tail + c).split("\n");
      this.tail = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake?.();
    });
  }

  send(...fields: Array<string | number>): void {
    const body = Buffer.concat(fields.map((f) => Buffer.from(`${f}\0`)));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    this.child.stdin.write(Buffer.concat([head, body]));
  }

  /** Next line matching `re` (lines before it that do not match stay queued). */
  async next(re: RegExp, timeoutMs = 5000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => re.test(l));
      if (i >= 0) return re.exec(this.lines.splice(i, 1)[0]!)!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${re} in ${timeoutMs} ms; have ${JSON.stringify(this.lines)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  fdCount(): number {
    return readdirSync(`/proc/${this.child.pid}/fd`).length;
  }

  /** Opens the spawner's fd `n` as envd does (non-blocking) and reads it to EOF, polling. */
  readAll(n: number): Promise<string> {
    const fd = openSync(`/proc/${this.child.pid}/fd/${n}`, constants.O_RDONLY | constants.O_NONBLOCK);
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    const deadline = Date.now() + 5000;
    return new Promise((resolve, reject) => {
      const read = () => {
        for (;;) {
          let got: number;
          try {
            got = readSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EAGAIN") return reject(err);
            if (Date.now() > deadline) return reject(new Error("no EOF within 5 s"));
            setTimeout(read, 5);
            return;
          }
          if (got === 0) {
            closeSync(fd);
            return resolve(Buffer.concat(chunks).toString("utf8"));
          }
          chunks.push(Buffer.from(buf.subarray(0, got)));
        }
      };
      read();
    });
  }

  close(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) resolve(this.child.exitCode);
      this.child.once("exit", (code) => resolve(code));
      this.child.stdin.end();
    });
  }
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

  it("starts a process with argv, env and cwd byte for byte, newlines included, and reports its exit code", async () => {
    const script = 'printf "%s|%s|%s" "$1" "$X" "$PWD"; exit 3';
    s.send(...spawnFrame(1, "/bin/sh", ["sh", "-c", script, "sh", "a\nb"], ["X=c\nd"], { cwd: "/tmp" }));
    const ok = await s.next(/^ok 1 (\d+) (-1) (\d+) (\d+)$/);
    const out = s.readAll(Number(ok[3]));
    s.send("release", 1);
    assert.equal(await out, "a\nb|c\nd|/tmp");
    await s.next(new RegExp(`^exit ${ok[1]} code 3$`));
  });

  it("reports a signal death with the signal number, and leads its own process group", async () => {
    s.send(...spawnFrame(2, "/bin/sh", ["sh", "-c", "kill -9 $$"], []));
    const ok = await s.next(/^ok 2 (\d+) -1 (\d+) (\d+)$/);
    s.send("release", 2);
    await s.next(new RegExp(`^exit ${ok[1]} signal 9$`));
    s.send(...spawnFrame(3, "/bin/cat", ["cat", "/proc/self/stat"], []));
    const ok3 = await s.next(/^ok 3 (\d+) -1 (\d+) (\d+)$/);
    const text = await s.readAll(Number(ok3[2]));
    s.send("release", 3);
    const pid = ok3[1]!;
    // /proc/PID/stat after "(comm) ": state, ppid, pgrp, session.
    const [, , pgrp, session] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    assert.deepEqual([pgrp, session], [pid, pid]);
  });

  it("answers exec, chdir and setuid failures with their errno and stage, without an exit event", async () => {
    s.send(...spawnFrame(4, "/no/such/file", ["x"], []));
    assert.deepEqual([...(await s.next(/^error 4 (\d+) (\w+)$/)).slice(1)], ["2", "exec"]);
    s.send(...spawnFrame(5, "/bin/true", ["true"], [], { cwd: "/no/such/dir" }));
    assert.deepEqual([...(await s.next(/^error 5 (\d+) (\w+)$/)).slice(1)], ["2", "chdir"]);
    const noExec = join(dir, "not-executable");
    await writeFile(noExec, "", { mode: 0o644 });
    s.send(...spawnFrame(6, noExec, ["x"], []));
    assert.deepEqual([...(await s.next(/^error 6 (\d+) (\w+)$/)).slice(1)], ["13", "exec"]);
    if (process.getuid?.() !== 0) {
      s.send(...spawnFrame(7, "/bin/true", ["true"], [], { uid: "0", gid: "0" }));
      assert.deepEqual([...(await s.next(/^error 7 (\d+) (\w+)$/)).slice(1)], ["1", "setgid"]);
    }
  });

  it("runs an executable text file without #! with /bin/sh, as execvp does", async () => {
    const script = join(dir, "no-shebang");
    await writeFile(script, 'echo "script:$1"\n', { mode: 0o755 });
    s.send(...spawnFrame(10, script, [script, "arg"], []));
    const ok = await s.next(/^ok 10 (\d+) -1 (\d+) (\d+)$/);
    const out = await s.readAll(Number(ok[2]));
    s.send("release", 10);
    assert.equal(out, "script:arg\n");
  });

  it("switches to the given uid and gid when run as root", {
    skip: process.getuid?.() !== 0 && "needs root",
  }, async () => {
    s.send(
      ...spawnFrame(8, "/bin/sh", ["sh", "-c", "echo $(id -u) $(id -g) $(id -G)"], [], { uid: "65534", gid: "65534" }),
    );
    const ok = await s.next(/^ok 8 (\d+) -1 (\d+) (\d+)$/);
    const out = await s.readAll(Number(ok[2]));
    s.send("release", 8);
    assert.equal(out, "65534 65534 65534\n");
  });

  it("gives stdin as a pipe that reaches EOF once envd's copy and, after release, the spawner's are closed", async () => {
    s.send(...spawnFrame(9, "/bin/cat", ["cat"], [], { stdin: "1" }));
    const ok = await s.next(/^ok 9 (\d+) (\d+) (\d+) (\d+)$/);
    const stdin = openSync(`/proc/${s.child.pid}/fd/${ok[2]}`, constants.O_WRONLY);
    const out = s.readAll(Number(ok[3]));
    s.send("release", 9);
    writeSync(stdin, "piped\n");
    closeSync(stdin);
    assert.equal(await out, "piped\n");
    await s.next(new RegExp(`^exit ${ok[1]} code 0$`));
  });

  it("starts 200 processes without keeping any fd once each was released", async () => {
    const before = s.fdCount();
    for (let i = 0; i < 200; i++) {
      s.send(...spawnFrame(100 + i, "/bin/true", ["true"], [], { stdin: i % 2 ? "1" : "0" }));
      await s.next(new RegExp(`^ok ${100 + i} `));
      s.send("release", 100 + i);
    }
    for (let i = 0; i < 200; i++) await s.next(/^exit \d+ code 0$/);
    // `release` has no answer: the last ones may still be unread when the last exit line arrives (seen in CI: the
    // last process's three fds). Wait for the spawner to catch up, bounded.
    const deadline = Date.now() + 5000;
    while (s.fdCount() !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.fdCount(), before);
  });

  it("answers a malformed request with an error and keeps serving", async () => {
    s.send("spawn", 300, "/bin/true", "/", "-", "-", "0", 5, "only-one");
    await s.next(/^error 300 22 request$/);
    s.send("bogus");
    await s.next(/^error 0 22 request$/);
    s.send("spawn", 301, "/bin/true", "/", "x", "-", "0", 1, "true", 0);
    await s.next(/^error 301 22 request$/);
    s.send(...spawnFrame(302, "/bin/true", ["true"], []));
    await s.next(/^ok 302 /);
    s.send("release", 302);
  });

  it("exits 0 when its stdin closes", async () => {
    const other = new Spawner(helper.path);
    assert.equal(await other.close(), 0);
  });
});
