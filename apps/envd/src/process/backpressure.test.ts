import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { EnvdHarness, waitFor } from "../testing/envd-harness.ts";
import { rawStart } from "../testing/raw-connect.ts";
import { PIPE_BACKENDS, spawnerFor } from "../testing/spawner-binary.ts";
import type { ProcessBackend } from "./backend.ts";
import { OutputFanout } from "./output-fanout.ts";
import { ProcessHandle } from "./process-handle.ts";

describe("output fanout", () => {
  it("pauses the source while a client is full and drops a client that stays full", async () => {
    const calls: string[] = [];
    const fanout = new OutputFanout({
      maxQueuedBytes: 100,
      stallLimitMs: 200,
      pause: () => calls.push("pause"),
      resume: () => calls.push("resume"),
    });
    const slow = fanout.subscribe();
    const fast = fanout.subscribe();
    const fastIt = fast[Symbol.asyncIterator]();
    fanout.publish("stdout", Buffer.alloc(60));
    assert.deepEqual(calls, []);
    fanout.publish("stdout", Buffer.alloc(60));
    assert.deepEqual(calls, ["pause"], "120 queued bytes > 100: the source must stop");
    // The fast client drains its queue (both chunks merged into one event), but the slow one is still full.
    const merged = await fastIt.next();
    assert.equal(merged.value?.kind === "stdout" && merged.value.data.length, 120);
    assert.deepEqual(calls, ["pause"]);
    // After the stall limit the slow client is dropped and output flows again.
    await waitFor("slow client dropped", () => (slow.isClosed ? true : undefined), 5000);
    assert.deepEqual(calls, ["pause", "resume"]);
    const slowIt = slow[Symbol.asyncIterator]();
    await assert.rejects(slowIt.next(), (err: unknown) => ConnectError.from(err).code === Code.ResourceExhausted);
    fanout.publish("stderr", Buffer.from("x"));
    fanout.end({ exitCode: 0, exited: true, status: "exit status 0" });
    assert.equal((await fastIt.next()).value?.kind, "stderr");
    assert.equal((await fastIt.next()).value?.kind, "end");
    assert.equal((await fastIt.next()).done, true);
  });

  it("keeps reading (and discarding) output when no client is attached", () => {
    const calls: string[] = [];
    const fanout = new OutputFanout({ maxQueuedBytes: 10, pause: () => calls.push("pause"), resume: () => {} });
    for (let i = 0; i < 100; i++) fanout.publish("stdout", Buffer.alloc(100));
    assert.deepEqual(calls, []);
  });

  it("pauses a backend attached after a client filled up, as the spawner relays output before its spawn settles", () => {
    const handle = new ProcessHandle({ cmd: "x", args: [], envs: {}, cwd: undefined }, undefined, {
      maxQueuedBytes: 10,
    });
    handle.subscribe();
    handle.fanout.publish("stdout", Buffer.alloc(20));
    const calls: string[] = [];
    const backend = { pid: 1, isPty: false, pause: () => calls.push("pause"), resume: () => calls.push("resume") };
    handle.attach(backend as unknown as ProcessBackend);
    assert.deepEqual(calls, ["pause"]);
  });
});

for (const backend of PIPE_BACKENDS)
  describe(`backpressure through envd (${backend})`, () => {
    it("delivers every byte of a large output to a slow client without loss", async () => {
      const h = await EnvdHarness.start({
        processLimits: { maxQueuedBytes: 256 * 1024, stallLimitMs: 60_000 },
        spawner: await spawnerFor(backend),
      });
      try {
        const total = 48 * 1024 * 1024;
        let received = 0;
        let chunks = 0;
        for await (const r of h
          .processClient()
          .start({ process: { cmd: "head", args: ["-c", String(total), "/dev/zero"] } })) {
          const ev = r.event?.event;
          if (ev?.case === "data") {
            received += ev.value.output.value?.length ?? 0;
            // A slow reader: yield to the event loop now and then so queues fill up.
            if (++chunks % 64 === 0) await new Promise((res) => setTimeout(res, 1));
          }
          if (ev?.case === "end") assert.equal(ev.value.exitCode, 0);
        }
        assert.equal(received, total);
      } finally {
        await h.close();
      }
    });

    it("bounds envd's memory when a client stops reading, and detaches it so others keep streaming", async () => {
      const h = await EnvdHarness.start({
        processLimits: { maxQueuedBytes: 1024 * 1024, stallLimitMs: 1500 },
        spawner: await spawnerFor(backend),
      });
      try {
        const { res } = await rawStart(h.port, { process: { cmd: "cat", args: ["/dev/zero"] }, tag: "firehose" });
        assert.equal(res.statusCode, 200);
        res.pause(); // the stuck client: reads nothing more, so the kernel's socket buffers fill up
        const baseline = process.memoryUsage().arrayBuffers;
        await new Promise((r) => setTimeout(r, 1000));
        // `cat /dev/zero` writes GB/s; without backpressure envd would hold hundreds of MB by now.
        const grown = process.memoryUsage().arrayBuffers - baseline;
        assert.ok(grown < 64 * 1024 * 1024, `arrayBuffers grew by ${grown} bytes`);

        const ac = new AbortController();
        const reader = h
          .processClient("2")
          .connect({ process: { selector: { case: "tag", value: "firehose" } } }, { signal: ac.signal });
        let received = 0;
        for await (const r of reader) {
          const ev = r.event?.event;
          if (ev?.case === "data") received += ev.value.output.value?.length ?? 0;
          if (received > 32 * 1024 * 1024) break;
        }
        assert.ok(received > 32 * 1024 * 1024, "the reading client keeps streaming once the stuck one is dropped");
        await h.processClient().sendSignal({ process: { selector: { case: "tag", value: "firehose" } }, signal: 9 });
        ac.abort();
        // The stuck client finally reads: what was queued for it, then an error saying it was detached.
        const tail = await new Promise<string>((resolve, reject) => {
          let last = Buffer.alloc(0);
          res.on("data", (c: Buffer) => {
            last = Buffer.concat([last, c]).subarray(-4096);
          });
          res.on("end", () => resolve(last.toString("latin1")));
          res.on("error", reject);
          res.resume();
        });
        assert.match(tail, /resource_exhausted/);
        assert.match(tail, /client too slow/);
      } finally {
        await h.close();
      }
    });
  });
