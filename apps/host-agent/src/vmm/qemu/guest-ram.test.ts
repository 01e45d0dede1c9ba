import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyGuestRam, findRamMapping, parseMaps } from "./guest-ram.ts";

const MAPS = `55d0c0a00000-55d0c0b00000 r-xp 00000000 fd:01 123 /usr/bin/qemu-system-x86_64
7f0000000000-7f0010000000 rw-p 00000000 fd:01 456 /var/lib/wrenn/templates/minimal-1c-256m/memory
7f0010000000-7f0018000000 rw-p 00000000 00:00 0
7f0020000000-7f0030000000 rw-p 00000000 fd:01 789 /var/lib/wrenn/sandboxes/cl-1/qemu_back_mem.mem.Ab12Cd (deleted)
7f0030000000-7f0030001000 rw-p 00000000 00:00 0                          [stack]
`;

describe("parseMaps / findRamMapping", () => {
  const maps = parseMaps(MAPS);

  it("parses ranges, paths and the deleted marker", () => {
    assert.equal(maps.length, 5);
    assert.equal(maps[1]?.start, 0x7f0000000000n);
    assert.equal(maps[3]?.path, "/var/lib/wrenn/sandboxes/cl-1/qemu_back_mem.mem.Ab12Cd");
    assert.equal(maps[3]?.deleted, true);
    assert.equal(maps[2]?.path, "");
  });

  it("finds the mapping of the memory file, or of QEMU's temp file in a memory folder", () => {
    const size = 256 * 1024 * 1024;
    assert.equal(findRamMapping(maps, "/var/lib/wrenn/templates/minimal-1c-256m/memory", size), maps[1]);
    assert.equal(findRamMapping(maps, "/var/lib/wrenn/sandboxes/cl-1", size), maps[3]);
  });

  it("never takes anonymous memory of the same size (the TCG translation cache) and says what is missing", () => {
    assert.throws(
      () => findRamMapping(maps, "/elsewhere/memory", 128 * 1024 * 1024),
      /guest RAM mapping of 134217728 bytes backed by \/elsewhere\/memory not found/,
    );
  });
});

describe("copyGuestRam from a live process", () => {
  const MiB = 1024 * 1024;
  const size = 4 * MiB;
  let dir: string;
  let child: ChildProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-guest-ram-"));
    // A "template" file: 1 MiB of 0xAB, then zeros. The process maps it privately (like a clone), writes one page
    // (copy-on-write), zeroes another that had data, and waits.
    const template = Buffer.alloc(size);
    template.fill(0xab, 0, MiB);
    await writeFile(join(dir, "memory"), template);
    const script = [
      "import mmap, sys",
      `f = open(${JSON.stringify(join(dir, "memory"))}, "r+b")`,
      `m = mmap.mmap(f.fileno(), ${size}, flags=mmap.MAP_PRIVATE)`,
      `m[${2 * MiB}:${2 * MiB + 5}] = b"hello"`,
      `m[0:${64 * 1024}] = bytes(${64 * 1024})`,
      "print('ready', flush=True)",
      "sys.stdin.read()",
    ].join("\n");
    child = spawn("python3", ["-c", script], { stdio: ["pipe", "pipe", "inherit"] });
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
    assert.match(line.toString(), /ready/);
  });

  after(async () => {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the process's view of the RAM (its private changes included), zero blocks as holes", async () => {
    const out = join(dir, "copy");
    const written = await copyGuestRam(child.pid as number, join(dir, "memory"), size, out);
    const got = await readFile(out);
    assert.equal(got.length, size);
    assert.ok(
      got.subarray(0, 64 * 1024).every((b) => b === 0),
      "zeroed page copied as zero",
    );
    assert.ok(
      got.subarray(64 * 1024, MiB).every((b) => b === 0xab),
      "unchanged template pages copied",
    );
    assert.equal(got.subarray(2 * MiB, 2 * MiB + 5).toString(), "hello", "the private write is in the copy");
    // Non-zero: 1 MiB of template minus the zeroed 64 KiB, plus the 64 KiB block holding "hello".
    assert.equal(written, MiB);
    assert.ok((await stat(out)).blocks * 512 <= 2 * MiB, "zero blocks are holes");
    const original = await readFile(join(dir, "memory"));
    assert.equal(original.subarray(2 * MiB, 2 * MiB + 5).toString("hex"), "0000000000", "template untouched");
  });
});
