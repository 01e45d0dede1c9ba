import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProgress } from "./progress.ts";

function harness(isTTY: boolean) {
  let t = 0;
  const out: string[] = [];
  const progress = createProgress({
    out: { isTTY, write: (s: string) => out.push(s) },
    now: () => t,
    heartbeatMs: 10_000,
    redrawMs: 100,
  });
  return { progress, out, advance: (ms: number) => (t += ms) };
}

describe("createProgress", () => {
  it("prints a start and an end line per step with elapsed seconds and the note", async () => {
    const h = harness(false);
    h.advance(1500);
    const result = await h.progress.step("kernel", async (s) => {
      h.advance(2000);
      s.note("6.1.0");
      return 7;
    });
    assert.equal(result, 7);
    assert.deepEqual(h.out, ["[   1.5s] ▸ kernel\n", "[   3.5s] ✓ kernel (2.0s, 6.1.0)\n"]);
  });

  it("without a TTY, prints a heartbeat line at most every heartbeatMs, with the count and last detail", async () => {
    const h = harness(false);
    await h.progress.step("debootstrap", async (s) => {
      for (let i = 0; i < 30; i++) {
        h.advance(1000);
        s.tick(`I: Unpacking pkg${i}`);
      }
    });
    const beats = h.out.filter((l) => l.includes("…"));
    assert.equal(beats.length, 3);
    assert.match(beats[0]!, /debootstrap: 10 so far, last: I: Unpacking pkg9/);
    assert.ok(h.out.every((l) => !l.includes("\r")));
  });

  it("on a TTY, redraws one status line and clears it before the end line", async () => {
    const h = harness(true);
    await h.progress.step("apt", async (s) => {
      h.advance(200);
      s.tick("Get:1 nodejs");
      h.advance(10);
      s.tick("Get:2 npm");
    });
    const redraws = h.out.filter((l) => l.startsWith("\r\x1b[K  apt:"));
    assert.equal(redraws.length, 1, "the second tick came within redrawMs");
    assert.match(redraws[0]!, /apt: 1 · 0s · Get:1 nodejs/);
    assert.equal(h.out.at(-2), "\r\x1b[K");
    assert.match(h.out.at(-1)!, /✓ apt/);
  });

  it("marks a failed step with ✗ and rethrows", async () => {
    const h = harness(false);
    await assert.rejects(
      h.progress.step("mkfs", async () => {
        throw new Error("disk full");
      }),
      /disk full/,
    );
    assert.match(h.out.at(-1)!, /✗ mkfs/);
  });
});

describe("createProgress on a narrow terminal", () => {
  it("cuts the status line to the terminal width so \\r can redraw it", async () => {
    let t = 0;
    const out: string[] = [];
    const progress = createProgress({
      out: { isTTY: true, columns: 40, write: (s: string) => out.push(s) },
      now: () => t,
    });
    await progress.step("debootstrap", async (s) => {
      t += 500;
      s.tick("I: Retrieving a-very-long-package-name-that-would-wrap 1.2.3-4");
    });
    const status = out.find((l) => l.startsWith("\r\x1b[K  "));
    assert.equal(status?.length, "\r\x1b[K".length + 39);
  });
});
