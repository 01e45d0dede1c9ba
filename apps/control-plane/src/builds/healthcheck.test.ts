import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ShellResult } from "./guest-shell.ts";
import { parseHealthcheck } from "./healthcheck.ts";
import { waitHealthy } from "./healthcheck-wait.ts";

describe("parseHealthcheck", () => {
  it("applies the reference defaults", () => {
    assert.deepEqual(parseHealthcheck("curl -sf http://127.0.0.1:8888/api/status"), {
      cmd: "curl -sf http://127.0.0.1:8888/api/status",
      intervalMs: 3000,
      timeoutMs: 10_000,
      startPeriodMs: 0,
      retries: 0,
    });
  });

  it("reads every flag in any order, leaving the command intact", () => {
    assert.deepEqual(parseHealthcheck("--retries=5 --interval=5s --start-period=1m --timeout=2s test -f '/tmp/a b'"), {
      cmd: "test -f '/tmp/a b'",
      intervalMs: 5000,
      timeoutMs: 2000,
      startPeriodMs: 60_000,
      retries: 5,
    });
  });

  it("rejects unknown flags, bad values and a missing command", () => {
    assert.throws(() => parseHealthcheck("--bogus=1 true"), /unknown healthcheck flag --bogus/);
    assert.throws(() => parseHealthcheck("--interval=fast true"), /--interval needs a Go duration/);
    assert.throws(() => parseHealthcheck("--interval=0 true"), /--interval must be more than 0/);
    assert.throws(() => parseHealthcheck("--retries=-1 true"), /--retries must be an integer/);
    assert.throws(() => parseHealthcheck("--retries 3 true"), /needs a value/);
    assert.throws(() => parseHealthcheck("--interval=1s"), /needs a command/);
    assert.throws(() => parseHealthcheck("   "), /needs a command/);
  });
});

describe("waitHealthy", () => {
  const results = (codes: number[]) => {
    let i = 0;
    const calls: number[] = [];
    const check = async (timeoutMs: number): Promise<ShellResult> => {
      calls.push(timeoutMs);
      const exit = codes[Math.min(i++, codes.length - 1)] as number;
      return { stdout: "", stderr: exit ? `bad ${i}` : "", exit };
    };
    return { check, calls };
  };
  const hc = (over: Partial<ReturnType<typeof parseHealthcheck>>) => ({
    ...parseHealthcheck("--interval=10ms true"),
    ...over,
  });

  it("returns once a check passes, each check bounded by the timeout", async () => {
    const { check, calls } = results([1, 1, 0]);
    await waitHealthy(hc({ timeoutMs: 1234 }), check, new AbortController().signal);
    assert.deepEqual(calls, [1234, 1234, 1234]);
  });

  it("fails after `retries` counted failures with the last stderr", async () => {
    const { check, calls } = results([1]);
    await assert.rejects(waitHealthy(hc({ retries: 3 }), check, new AbortController().signal), /failed 3 times: bad 3/);
    assert.equal(calls.length, 3);
  });

  it("does not count failures inside the start period", async () => {
    const { check, calls } = results([1]);
    await assert.rejects(
      waitHealthy(hc({ retries: 2, startPeriodMs: 80 }), check, new AbortController().signal),
      /healthcheck/,
    );
    assert.ok(calls.length > 2, `only ${calls.length} checks: start-period failures were counted`);
  });

  it("gives up at the overall bound when retries is 0, and stops on abort", async () => {
    const { check } = results([1]);
    await assert.rejects(waitHealthy(hc({}), check, new AbortController().signal, 60), /did not pass within/);
    const ac = new AbortController();
    const p = waitHealthy(hc({ intervalMs: 10_000 }), check, ac.signal);
    setTimeout(() => ac.abort(new Error("cancelled")), 20);
    await assert.rejects(p, /cancelled/);
  });
});
