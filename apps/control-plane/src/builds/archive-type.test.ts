import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { detectArchiveType } from "./archive-type.ts";

describe("detectArchiveType", () => {
  const dir = mkdtempSync(join(tmpdir(), "wrenn-archive-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "hello.txt"), "hello\n");

  it("recognises real tar, tar.gz and zip files by their magic bytes", () => {
    execFileSync("tar", ["-cf", join(dir, "a.tar"), "-C", dir, "hello.txt"]);
    execFileSync("tar", ["-czf", join(dir, "a.tgz"), "-C", dir, "hello.txt"]);
    const tar = readFileSync(join(dir, "a.tar"));
    assert.equal(detectArchiveType(tar), "tar");
    assert.equal(detectArchiveType(readFileSync(join(dir, "a.tgz"))), "tar.gz");
    assert.equal(detectArchiveType(gzipSync(tar)), "tar.gz");
    execFileSync("python3", ["-m", "zipfile", "-c", join(dir, "a.zip"), join(dir, "hello.txt")]);
    assert.equal(detectArchiveType(readFileSync(join(dir, "a.zip"))), "zip");
  });

  it("rejects anything else, including truncated headers", () => {
    assert.equal(detectArchiveType(Buffer.from("hello world")), undefined);
    assert.equal(detectArchiveType(Buffer.from([0x1f])), undefined);
    assert.equal(detectArchiveType(Buffer.from("PK\x01\x02")), undefined);
    assert.equal(detectArchiveType(new Uint8Array(0)), undefined);
    const notTar = Buffer.alloc(512);
    notTar.write("ustaz", 257);
    assert.equal(detectArchiveType(notTar), undefined);
  });
});
