import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { canonicalJson, dirSha256, fileSha256, recipeHash } from "./recipe-hash.ts";

describe("recipeHash", () => {
  it("does not depend on key order", () => {
    assert.equal(recipeHash({ a: 1, b: { c: [1, 2], d: "x" } }), recipeHash({ b: { d: "x", c: [1, 2] }, a: 1 }));
    assert.equal(canonicalJson({ b: 1, a: undefined, c: null }), '{"b":1,"c":null}');
  });

  it("changes when any value changes, including array order", () => {
    const base = recipeHash({ packages: ["nodejs", "npm"], v: 1 });
    assert.notEqual(base, recipeHash({ packages: ["npm", "nodejs"], v: 1 }));
    assert.notEqual(base, recipeHash({ packages: ["nodejs", "npm"], v: 2 }));
    assert.match(base, /^[0-9a-f]{64}$/);
  });
});

describe("fileSha256 and dirSha256", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("hashes file bytes like sha256sum", async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-hash-"));
    dirs.push(d);
    await writeFile(join(d, "f"), "abc");
    assert.equal(await fileSha256(join(d, "f")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("changes a folder's hash when a nested file's content or name changes", async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-hash-"));
    dirs.push(d);
    await mkdir(join(d, "sub"));
    await writeFile(join(d, "sub", "pty.node"), "v1");
    const h1 = await dirSha256(d);
    await writeFile(join(d, "sub", "pty.node"), "v2");
    const h2 = await dirSha256(d);
    await rm(join(d, "sub", "pty.node"));
    await writeFile(join(d, "sub", "pty2.node"), "v2");
    const h3 = await dirSha256(d);
    assert.equal(new Set([h1, h2, h3]).size, 3);
    assert.equal(await dirSha256(d), h3);
  });
});
