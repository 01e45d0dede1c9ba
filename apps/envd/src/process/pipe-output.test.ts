import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import type { BackendSink } from "./backend.ts";
import { PipeOutput } from "./pipe-output.ts";

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
      const output = new PipeOutput(child.stdout, child.stderr, sink);
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
});
