import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { process as pb } from "@wrenn/protocol";
import { EnvdHarness, type HttpVersion, runToEnd, waitFor } from "../testing/envd-harness.ts";
import { PIPE_BACKENDS, spawnerFor } from "../testing/spawner-binary.ts";

type StartInit = MessageInitShape<typeof pb.StartRequestSchema>;
type StreamInputInit = MessageInitShape<typeof pb.StreamInputRequestSchema>;
const sh = (script: string, extra: { tag?: string } = {}): StartInit => ({
  process: { cmd: "/bin/sh", args: ["-c", script] },
  ...extra,
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function connectError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  assert.fail("expected the call to fail");
}

// The whole suite runs once per pipe backend: child_process.spawn, and wrenn-spawner (compiled for the test).
for (const backend of PIPE_BACKENDS)
  describe(`process service (${backend})`, () => {
    let h: EnvdHarness;
    before(async () => {
      h = await EnvdHarness.start({ spawner: await spawnerFor(backend) });
      assert.equal(h.envd.spawnerPid !== undefined, backend === "wrenn-spawner");
    });
    after(() => h.close());

    for (const v of ["1.1", "2"] as HttpVersion[]) {
      it(`streams stdout and stderr separately, each in order, then the exit code (HTTP/${v})`, async () => {
        const script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exit 7";
        const r = await runToEnd(h.processClient(v).start(sh(script)));
        assert.ok(r.pid > 0);
        assert.equal(r.stdout, "out1\nout2\nout3\nout4\nout5\n");
        assert.equal(r.stderr, "err1\nerr2\nerr3\nerr4\nerr5\n");
        assert.equal(r.end?.exitCode, 7);
        assert.equal(r.end?.exited, true);
        assert.equal(r.end?.status, "exit status 7");
      });
    }

    it("passes binary output through unchanged", async () => {
      const r = h.processClient().start(sh("printf '\\000\\377\\001\\200'"));
      const bytes: number[] = [];
      for await (const res of r) {
        const ev = res.event?.event;
        if (ev?.case === "data" && ev.value.output.case === "stdout") bytes.push(...ev.value.output.value);
      }
      assert.deepEqual(bytes, [0, 255, 1, 128]);
    });

    it("applies envs, cwd and the default HOME/USER", async () => {
      const r = await runToEnd(
        h.processClient().start({
          process: { cmd: "sh", args: ["-c", 'echo "$FOO|$PWD|$HOME"'], envs: { FOO: "bar" }, cwd: "sub" },
        }),
      ).catch((err: unknown) => err);
      assert.ok(r instanceof ConnectError && r.code === Code.NotFound, "a missing cwd is not_found");
      await h.filesystemClient().makeDir({ path: "sub" });
      const ok = await runToEnd(
        h.processClient().start({
          process: { cmd: "sh", args: ["-c", 'echo "$FOO|$PWD|$HOME"'], envs: { FOO: "bar" }, cwd: "sub" },
        }),
      );
      assert.equal(ok.stdout, `bar|${h.root}/sub|${h.root}\n`);
    });

    it("refuses a missing executable with not_found, a cwd that is a file with invalid_argument, and says why", async () => {
      const e1 = await connectError(runToEnd(h.processClient().start({ process: { cmd: "no-such-binary-xyz" } })));
      assert.equal(e1.code, Code.NotFound);
      await runToEnd(h.processClient().start(sh("echo x > afile")));
      const e2 = await connectError(runToEnd(h.processClient().start({ process: { cmd: "true", cwd: "afile" } })));
      assert.equal(e2.code, Code.InvalidArgument);
      const e3 = await connectError(runToEnd(h.processClient().start({ process: { cmd: "" } })));
      assert.equal(e3.code, Code.InvalidArgument);
      // A command given with a slash is not looked up on PATH: each backend must still name what is wrong with it.
      const missing = await connectError(runToEnd(h.processClient().start({ process: { cmd: "./no-such-file" } })));
      assert.equal(missing.code, Code.NotFound);
      assert.match(missing.rawMessage, /\.\/no-such-file/);
      const directory = await connectError(runToEnd(h.processClient().start({ process: { cmd: h.root } })));
      assert.equal(directory.code, Code.InvalidArgument);
      assert.match(directory.rawMessage, /is a directory/);
      const notExecutable = await connectError(runToEnd(h.processClient().start({ process: { cmd: "./afile" } })));
      assert.equal(notExecutable.code, Code.PermissionDenied);
      const missingCwd = await connectError(
        runToEnd(h.processClient().start({ process: { cmd: "/bin/true", cwd: "no-such-dir" } })),
      );
      assert.equal(missingCwd.code, Code.NotFound);
      assert.match(missingCwd.rawMessage, /working directory/);
    });

    it("reports a signal death and kills the whole process group on SIGKILL", async () => {
      const client = h.processClient();
      const stream = client.start(sh("sleep 300 & echo child=$!; wait", { tag: "group-kill" }));
      const it = stream[Symbol.asyncIterator]();
      let childPid = 0;
      let pid = 0;
      while (!childPid) {
        const { value } = await it.next();
        const ev = value?.event?.event;
        if (ev?.case === "start") pid = ev.value.pid;
        if (ev?.case === "data")
          childPid = Number(/child=(\d+)/.exec(Buffer.from(ev.value.output.value!).toString())?.[1]);
      }
      assert.ok(isAlive(childPid));
      await client.sendSignal({
        process: { selector: { case: "tag", value: "group-kill" } },
        signal: pb.Signal.SIGKILL,
      });
      let end: pb.ProcessEvent_EndEvent | undefined;
      for (;;) {
        const { value, done } = await it.next();
        if (done) break;
        if (value.event?.event.case === "end") end = value.event.event.value;
      }
      assert.equal(end?.exited, false);
      assert.equal(end?.status, "signal: killed");
      assert.equal(end?.exitCode, -1);
      assert.ok(pid > 0);
      await waitFor("the background child to die", () => (isAlive(childPid) ? undefined : true));
    });

    it("delivers SIGTERM, which a process may handle", async () => {
      const client = h.processClient();
      const stream = client.start(sh("trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"));
      const it = stream[Symbol.asyncIterator]();
      let pid = 0;
      for (;;) {
        const { value } = await it.next();
        const ev = value?.event?.event;
        if (ev?.case === "start") pid = ev.value.pid;
        if (ev?.case === "data") break;
      }
      await client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: pb.Signal.SIGTERM });
      const rest = await runToEnd({ [Symbol.asyncIterator]: () => it });
      assert.match(rest.stdout, /got-term/);
      assert.equal(rest.end?.exitCode, 3);
    });

    it("feeds stdin through SendInput and ends it with CloseStdin", async () => {
      const client = h.processClient();
      const stream = client.start(sh("cat; echo done", { tag: "stdin-cat" }));
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      const pid = first.value?.event?.event.case === "start" ? first.value.event.event.value.pid : 0;
      const sel = { selector: { case: "pid" as const, value: pid } };
      await client.sendInput({ process: sel, input: { input: { case: "stdin", value: Buffer.from("hello\n") } } });
      await client.closeStdin({ process: sel });
      const r = await runToEnd({ [Symbol.asyncIterator]: () => it });
      assert.equal(r.stdout, "hello\ndone\n");
      assert.equal(r.end?.exitCode, 0);
    });

    it("ends stdin with CloseStdin when nothing was ever written to it", async () => {
      const client = h.processClient();
      const it = client.start(sh("cat; echo eof-seen"))[Symbol.asyncIterator]();
      const first = await it.next();
      const pid = first.value?.event?.event.case === "start" ? first.value.event.event.value.pid : 0;
      await client.closeStdin({ process: { selector: { case: "pid", value: pid } } });
      const r = await runToEnd({ [Symbol.asyncIterator]: () => it });
      assert.equal(r.stdout, "eof-seen\n");
      const late = await connectError(
        client.sendInput({
          process: { selector: { case: "pid", value: pid } },
          input: { input: { case: "stdin", value: Buffer.from("x") } },
        }),
      );
      assert.notEqual(late.code, Code.Unknown);
    });

    it("takes ordered input over the StreamInput client stream (HTTP/2)", async () => {
      const client = h.processClient("2");
      const stream = client.start(sh("head -n 3", { tag: "stream-input" }));
      const it = stream[Symbol.asyncIterator]();
      await it.next();
      async function* inputs(): AsyncGenerator<StreamInputInit> {
        yield {
          event: { case: "start", value: { process: { selector: { case: "tag", value: "stream-input" } } } },
        };
        for (const line of ["a\n", "b\n", "c\n"]) {
          yield {
            event: { case: "data", value: { input: { input: { case: "stdin", value: Buffer.from(line) } } } },
          };
        }
      }
      await client.streamInput(inputs());
      const r = await runToEnd({ [Symbol.asyncIterator]: () => it });
      assert.equal(r.stdout, "a\nb\nc\n");
    });

    it("runs bash on a PTY and a resize is visible to tput cols", async () => {
      const client = h.processClient();
      const stream = client.start({
        process: { cmd: "bash", args: ["--norc", "--noprofile", "-i"], envs: { PS1: "$ ", TERM: "xterm" } },
        pty: { size: { cols: 100, rows: 30 } },
        tag: "pty-bash",
      });
      const it = stream[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.event?.event.case, "start");
      let out = "";
      const pump = (async () => {
        for (;;) {
          const { value, done } = await it.next();
          if (done) return value;
          const ev = value.event?.event;
          if (ev?.case === "data") out += Buffer.from(ev.value.output.value!).toString();
          if (ev?.case === "end") return ev.value;
        }
      })();
      const sel = { selector: { case: "tag" as const, value: "pty-bash" } };
      const type = (s: string) =>
        client.sendInput({ process: sel, input: { input: { case: "pty", value: Buffer.from(s) } } });
      await type("echo cols=$(tput cols) tty=$(tty)\n");
      await waitFor("first tput", () => (/cols=100 tty=\/dev\/pts\//.test(out) ? true : undefined));
      await client.update({ process: sel, pty: { size: { cols: 132, rows: 40 } } });
      await type("echo cols=$(tput cols) lines=$(tput lines)\n");
      await waitFor("tput after resize", () => (/cols=132 lines=40/.test(out) ? true : undefined));
      const closeErr = await connectError(client.closeStdin({ process: sel }));
      assert.equal(closeErr.code, Code.FailedPrecondition);
      await type("exit 5\n");
      const end = (await pump) as pb.ProcessEvent_EndEvent;
      assert.equal(end.exitCode, 5);
    });

    it("keeps a process running after its client disconnects, lists it, and reattaches by tag and pid", async () => {
      const client = h.processClient();
      const ac = new AbortController();
      const stream = client.start(sh("while read l; do echo got:$l; done; echo bye", { tag: "reattach" }), {
        signal: ac.signal,
      });
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      const pid = first.value?.event?.event.case === "start" ? first.value.event.event.value.pid : 0;
      ac.abort();
      await it.next().catch(() => undefined);
      const listed = await client.list({});
      const info = listed.processes.find((p) => p.pid === pid);
      assert.equal(info?.tag, "reattach");
      assert.equal(info?.config?.cmd, "/bin/sh");
      assert.ok(isAlive(pid));

      const byTag = client.connect({ process: { selector: { case: "tag", value: "reattach" } } });
      const tagIt = byTag[Symbol.asyncIterator]();
      const started = await tagIt.next();
      assert.equal(started.value?.event?.event.case, "start");
      const sel = { selector: { case: "pid" as const, value: pid } };
      await client.sendInput({ process: sel, input: { input: { case: "stdin", value: Buffer.from("one\n") } } });
      const pidIt = h.processClient("2").connect({ process: sel })[Symbol.asyncIterator]();
      assert.equal((await pidIt.next()).value?.event?.event.case, "start");
      const byPid = runToEnd({ [Symbol.asyncIterator]: () => pidIt });
      await client.closeStdin({ process: sel });
      const r = await runToEnd({ [Symbol.asyncIterator]: () => tagIt });
      assert.match(r.stdout, /got:one\n/);
      assert.match(r.stdout, /bye\n$/);
      assert.equal(r.end?.exitCode, 0);
      assert.equal((await byPid).end?.exitCode, 0);
      const gone = await connectError(runToEnd(client.connect({ process: sel })));
      assert.equal(gone.code, Code.NotFound);
    });

    it("refuses a second running process with the same tag", async () => {
      const client = h.processClient();
      const ac = new AbortController();
      const s = client.start(sh("sleep 30", { tag: "dup" }), { signal: ac.signal });
      const it = s[Symbol.asyncIterator]();
      await it.next();
      const e = await connectError(runToEnd(client.start(sh("true", { tag: "dup" }))));
      assert.equal(e.code, Code.AlreadyExists);
      await client.sendSignal({ process: { selector: { case: "tag", value: "dup" } }, signal: pb.Signal.SIGKILL });
      await runToEnd({ [Symbol.asyncIterator]: () => it });
    });

    it("answers not_found for unknown selectors and invalid_argument for an empty one", async () => {
      const client = h.processClient();
      const missing = { process: { selector: { case: "pid" as const, value: 999999 } } };
      assert.equal(
        (await connectError(client.sendSignal({ ...missing, signal: pb.Signal.SIGTERM }))).code,
        Code.NotFound,
      );
      assert.equal((await connectError(client.closeStdin(missing))).code, Code.NotFound);
      assert.equal((await connectError(client.update(missing))).code, Code.NotFound);
      assert.equal((await connectError(client.sendInput(missing))).code, Code.NotFound);
      assert.equal((await connectError(client.closeStdin({}))).code, Code.InvalidArgument);
    });

    it("refuses a Start it cannot decode with invalid_argument, and starts nothing", async () => {
      // process { cmd: <invalid UTF-8> }: protobuf-es refuses it, and so must envd's own decoder.
      const message = Buffer.from([0x0a, 0x05, 0x0a, 0x03, 0xff, 0xc3, 0x28]);
      const running = (await h.processClient().list({})).processes.length;
      const res = await fetch(`${h.baseUrl}/process.Process/Start`, {
        method: "POST",
        headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1" },
        body: Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]),
      });
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body[0], 2, "one end-of-stream message, no events");
      const end = JSON.parse(body.subarray(5).toString()) as { error?: { code: string; message: string } };
      assert.equal(end.error?.code, "invalid_argument");
      assert.match(end.error?.message ?? "", /cannot decode the request/);
      assert.equal((await h.processClient().list({})).processes.length, running);
    });

    it("runs 100 concurrent short processes, each with its own output and exit code", async () => {
      const client = h.processClient("2");
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => runToEnd(client.start(sh(`echo n=${i}; exit ${i % 7}`)))),
      );
      results.forEach((r, i) => {
        assert.equal(r.stdout, `n=${i}\n`);
        assert.equal(r.end?.exitCode, i % 7);
      });
      assert.equal(new Set(results.map((r) => r.pid)).size, 100);
    });
  });
