import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { shellQuote, wrapScript } from "./shell-quote.ts";

const sh = (script: string) => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });

describe("shellQuote", () => {
  it("passes awkward words through sh unchanged", () => {
    for (const w of ["plain", "two words", "it's", "$HOME", '"q"', "a\nb", "`x`", ""]) {
      assert.equal(sh(`printf %s ${shellQuote(w)}`), w);
    }
  });
});

describe("wrapScript", () => {
  it("returns the script unchanged without envs or cwd", () => {
    assert.equal(wrapScript("echo hi"), "echo hi");
  });
  it("runs in cwd with the given environment", () => {
    const out = sh(wrapScript('echo "$FOO|$BAR|$(pwd)"', { FOO: "a b", BAR: "it's" }, "/tmp"));
    assert.equal(out, "a b|it's|/tmp\n");
  });
  it("rejects bad variable names", () => {
    assert.throws(() => wrapScript("true", { "A=B": "x" }), TypeError);
  });
});
