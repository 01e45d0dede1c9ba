/** `pushAsGenerator`: how a push-style method behaves when connect-es iterates it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { type PushStreamCall, pushAsGenerator } from "./push-stream.ts";

function context(signal = new AbortController().signal): HandlerContext {
  return { signal, requestHeader: new Headers({ "x-who": "me" }) } as unknown as HandlerContext;
}

describe("pushAsGenerator", () => {
  it("yields what was sent in order, answers false while a message waits, and calls onDrain once it was taken", async () => {
    const answers: boolean[] = [];
    let drains = 0;
    let call: PushStreamCall<number> | undefined;
    const gen = pushAsGenerator<string, number>((req, c) => {
      call = c;
      assert.equal(req, "go");
      assert.equal(c.requestHeader.get("x-who"), "me");
      c.onDrain(() => {
        drains++;
        answers.push(c.send(3));
        c.end();
      });
      answers.push(c.send(1), c.send(2));
    })("go", context());
    assert.deepEqual(await gen.next(), { value: 1, done: false });
    assert.deepEqual(answers, [true, false]);
    assert.equal(drains, 0, "onDrain before the queue emptied");
    assert.deepEqual(await gen.next(), { value: 2, done: false });
    assert.deepEqual(await gen.next(), { value: 3, done: false });
    assert.equal(drains, 1);
    assert.deepEqual(await gen.next(), { value: undefined, done: true });
    assert.equal(call?.isDone, true);
    assert.equal(call?.send(4), false, "a send after the end");
  });

  it("throws the error the call ended with; anything but a ConnectError as internal", async () => {
    const ended = (error: unknown) =>
      pushAsGenerator<string, number>((_, c) => {
        c.send(1);
        setImmediate(() => c.end(error));
      })("", context());
    const collect = async (g: AsyncGenerator<number>) => {
      const got: number[] = [];
      try {
        for await (const v of g) got.push(v);
      } catch (err) {
        return { got, code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage };
      }
      return { got };
    };
    assert.deepEqual(await collect(ended(new ConnectError("gone", Code.NotFound))), {
      got: [1],
      code: Code.NotFound,
      message: "gone",
    });
    assert.deepEqual(await collect(ended(new Error("a secret"))), {
      got: [1],
      code: Code.Internal,
      message: "internal error",
    });
  });

  it("cancels the call with the context's abort reason, and when the consumer stops early", async () => {
    const reasons: Code[] = [];
    const method = (_: string, c: PushStreamCall<number>) => {
      c.onCancel((r) => reasons.push(r.code));
      c.send(1);
    };
    const controller = new AbortController();
    const gen = pushAsGenerator(method)("", context(controller.signal));
    await gen.next();
    const waiting = gen.next();
    controller.abort(new ConnectError("deadline", Code.DeadlineExceeded));
    assert.deepEqual(await waiting, { value: undefined, done: true });
    const early = pushAsGenerator(method)("", context());
    await early.next();
    await early.return(undefined);
    assert.deepEqual(reasons, [Code.DeadlineExceeded, Code.Canceled]);
  });
});
