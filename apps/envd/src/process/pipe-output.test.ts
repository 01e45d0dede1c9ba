import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import type { BackendSink } from "./backend.ts";
import { PipeOutput, readPipeStreams } from "./pipe-output.ts";

describe("PipeOutput", () => {
  it("keeps output that waited in the pipe while the event loop was blocked past the exit grace", async () => {
    // The child prints at once and keeps its pipes open for a while (like a background grandchild would).
    const child = spawn("/bin/sh", ["-c", "echo hi; sleep 4"], { stdio: ["ignore", "pipe", "pipe"] });
    const events: string[] = [];
    const ended = new Promise<void>((resolve) => {
      const sink: BackendSink = {
        data: (kind, chunk) => events.push(`${kind}:${chunk.toString()}`),
        end: () => {
          events.push("end");
          resolve();
        },
      };
      const output = readPipeStreams(child.stdout, child.stderr, sink);
      // The exit is known before anything was read (the spawner's exit line can come first).
      output.exited({ exitCode: 0, exited: true, status: "exit status 0" });
    });
    // Block the event loop past the one-second grace while "hi\n" sits in the pipe: the late grace timer then
    // runs before the pipe read in the same loop turn.
    const until = Date.now() + 1300;
    while (Date.now() < until) {}
    await ended;
    child.kill("SIGKILL");
    assert.deepEqual(events, ["stdout:hi\n", "end"], "the output came before the end, none lost");
  });

  it("ends after the exit once each stream closed, however often one reports it", () => {
    const events: string[] = [];
    const output = new PipeOutput(
      { data: (kind, chunk) => events.push(`${kind}:${chunk}`), end: (info) => events.push(`end:${info.status}`) },
      { pause: () => {}, resume: () => {}, abandon: () => events.push("abandon") },
    );
    output.data("stdout", Buffer.from("a"));
    output.closed("stdout");
    output.exited({ exitCode: 0, exited: true, status: "exit status 0" });
    output.closed("stdout");
    assert.deepEqual(events, ["stdout:a"], "stderr is still open");
    output.closed("stderr");
    output.data("stderr", Buffer.from("late"));
    assert.deepEqual(events, ["stdout:a", "end:exit status 0"]);
  });

  it("abandons streams that stay open and idle past the exit grace, and ends at once when lost", async () => {
    const events: string[] = [];
    const sink: BackendSink = { data: () => {}, end: (info) => events.push(`end:${info.status}`) };
    const source = { pause: () => {}, resume: () => {}, abandon: () => events.push("abandon") };
    const held = new PipeOutput(sink, source);
    held.exited({ exitCode: 0, exited: true, status: "exit status 0" });
    const lost = new PipeOutput(sink, source);
    lost.lost({ exitCode: -1, exited: false, status: "unknown", error: "spawner exited" });
    assert.deepEqual(events, ["end:unknown"]);
    const deadline = Date.now() + 5000;
    while (events.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, ["end:unknown", "abandon", "end:exit status 0"]);
  });
});
