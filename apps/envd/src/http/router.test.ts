import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathOf } from "./router.ts";

describe("pathOf", () => {
  it("gives exactly URL's pathname, with or without its shortcut", () => {
    const urls = [
      "/",
      "/health",
      "/process.Process/Start",
      "/files?path=/tmp/a%20b&username=root",
      "/files#frag",
      "/files?x#y",
      "/a/../health",
      "/./health",
      "/a/./b/",
      "//evil/health",
      "/%68ealth",
      "/a%2Fb",
      "/a b",
      "/ä",
      '/a{b}<c>`d`"e"',
      "/a\\b",
      "/a|b^c~d!$&'()*+,;=:@",
      "relative",
      "",
      "?q",
    ];
    for (const url of urls) assert.equal(pathOf(url), new URL(url, "http://envd").pathname, url);
  });
});
