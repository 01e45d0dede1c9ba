import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "commander";
import { commandFromWords, envPair, localExitCode, nonNegativeInt, positiveInt } from "./parse.ts";

describe("argument parsers", () => {
  it("parses integers and rejects the rest", () => {
    assert.equal(positiveInt("3"), 3);
    assert.throws(() => positiveInt("0"), InvalidArgumentError);
    assert.throws(() => positiveInt("1.5"), InvalidArgumentError);
    assert.equal(nonNegativeInt("0"), 0);
    assert.throws(() => nonNegativeInt("-1"), InvalidArgumentError);
  });

  it("collects repeated KEY=VALUE pairs, keeping '=' in values", () => {
    const env = envPair("B=x=y", envPair("A=1"));
    assert.deepEqual(env, { A: "1", B: "x=y" });
    assert.throws(() => envPair("=v"), InvalidArgumentError);
    assert.throws(() => envPair("novalue"), InvalidArgumentError);
  });

  it("treats one word as a shell script and several as a program with arguments", () => {
    assert.deepEqual(commandFromWords(["echo hi | wc -c"]), { cmd: "echo hi | wc -c" });
    assert.deepEqual(commandFromWords(["python3", "-c", "print(1)"]), { cmd: "python3", args: ["-c", "print(1)"] });
    assert.throws(() => commandFromWords([]), InvalidArgumentError);
  });

  it("clamps remote exit codes", () => {
    assert.equal(localExitCode(0), 0);
    assert.equal(localExitCode(42), 42);
    assert.equal(localExitCode(-1), 1);
    assert.equal(localExitCode(300), 1);
  });
});
