import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { EnvdError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { SystemHelper, type SystemHelperOptions } from "./system-helper.ts";

const log = createLogger("silent");

/**
 * A stand-in for `wrenn-reseed --serve` speaking the same line protocol: `ok…` lines are answered `ok`,
 * `exit…` ends it with status 3, `hang…` is never answered, `garbage…` gets a line outside the protocol,
 * anything else is answered `error got <line>`.
 */
const FAKE_SERVER = `while IFS= read -r l; do
  case "$l" in
    ok*) echo ok ;;
    exit*) exit 3 ;;
    hang*) ;;
    garbage*) echo what ;;
    *) echo "error got $l" ;;
  esac
done`;

const started: SystemHelper[] = [];
function startFake(options: Partial<SystemHelperOptions> = {}): SystemHelper {
  const helper = SystemHelper.start({ path: "/bin/sh", args: ["-c", FAKE_SERVER], log, ...options });
  started.push(helper);
  return helper;
}

/** Settles every promise, in order: "ok" or the rejection's message. */
function outcomes(requests: Promise<void>[]): Promise<string[]> {
  return Promise.all(
    requests.map((p) =>
      p.then(
        () => "ok",
        (err: Error) => err.message,
      ),
    ),
  );
}

describe("SystemHelper", () => {
  afterEach(() => {
    for (const helper of started.splice(0)) helper.close();
  });

  it("answers concurrent commands one at a time, in the order they were made", async () => {
    const helper = startFake();
    const results = await outcomes([
      helper.request("ok 1"),
      helper.request("bad 2"),
      helper.request("ok 3"),
      helper.request("bad 4"),
    ]);
    assert.deepEqual(results, ["ok", "system helper: got bad 2", "ok", "system helper: got bad 4"]);
    assert.equal(helper.isAlive, true);
  });

  it("rejects an `error` answer as internal_error and keeps serving", async () => {
    const helper = startFake();
    await assert.rejects(
      helper.request("nope"),
      (e: unknown) => e instanceof EnvdError && e.code === "internal_error" && e.message === "system helper: got nope",
    );
    await helper.request("ok");
    assert.equal(helper.isAlive, true);
  });

  it("sends seed as hex, clock as integer ms and hostname as is", async () => {
    const helper = startFake();
    const results = await outcomes([
      helper.seed(Buffer.from([0x01, 0xab, 0xff])),
      helper.setClock(1_700_000_000_123),
      helper.setHostname("capsule-7"),
    ]);
    assert.deepEqual(results, [
      "system helper: got seed 01abff",
      "system helper: got clock 1700000000123",
      "system helper: got hostname capsule-7",
    ]);
  });

  it("refuses bad arguments with invalid_argument before sending anything", async () => {
    const helper = startFake();
    const isInvalid = (e: unknown) => e instanceof EnvdError && e.code === "invalid_argument";
    await assert.rejects(helper.seed(Buffer.alloc(0)), isInvalid);
    await assert.rejects(helper.seed(Buffer.alloc(513)), isInvalid);
    await assert.rejects(helper.setClock(1.5), isInvalid);
    await assert.rejects(helper.setClock(-5), isInvalid);
    await assert.rejects(helper.request("ok\nok"), isInvalid);
    await helper.request("ok");
    assert.equal(helper.isAlive, true);
  });

  it("rejects the command in flight and every queued one when the helper exits, then stays dead", async () => {
    const helper = startFake();
    const results = await outcomes([helper.request("ok 1"), helper.request("exit"), helper.request("ok 3")]);
    assert.equal(results[0], "ok");
    assert.match(results[1] ?? "", /^system helper exited \(code 3/);
    assert.equal(results[2], results[1]);
    assert.equal(helper.isAlive, false);
    await assert.rejects(helper.request("ok"), /system helper exited/);
  });

  it("kills a helper that misses the deadline and rejects what was pending", async () => {
    const helper = startFake({ timeoutMs: 200 });
    const results = await outcomes([helper.request("hang"), helper.request("ok")]);
    assert.deepEqual(results, [
      "system helper did not answer within 200 ms",
      "system helper did not answer within 200 ms",
    ]);
    assert.equal(helper.isAlive, false);
  });

  it("stops at an answer outside the protocol", async () => {
    const helper = startFake();
    await assert.rejects(helper.request("garbage"), /system helper broke the protocol: "what"/);
    assert.equal(helper.isAlive, false);
  });

  it("reports a binary that cannot start as a dead helper", async () => {
    const helper = startFake({ path: "/nonexistent/wrenn-reseed", args: ["--serve"] });
    await assert.rejects(helper.request("ok"), /system helper failed: spawn \/nonexistent\/wrenn-reseed ENOENT/);
    assert.equal(helper.isAlive, false);
  });

  it("close rejects pending commands and ends the helper", async () => {
    const helper = startFake();
    const pending = helper.request("hang");
    helper.close();
    await assert.rejects(pending, /system helper closed/);
    assert.equal(helper.isAlive, false);
    await assert.rejects(helper.request("ok"), /system helper closed/);
  });
});
