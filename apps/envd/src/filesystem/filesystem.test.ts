import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { filesystem as pb } from "@wrenn/protocol";
import { EnvdHarness, type HttpVersion, waitFor } from "../testing/envd-harness.ts";

async function codeOf(p: Promise<unknown>): Promise<Code> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  assert.fail("expected the call to fail");
}

describe("filesystem service", () => {
  let h: EnvdHarness;
  before(async () => {
    h = await EnvdHarness.start();
  });
  after(() => h.close());

  for (const v of ["1.1", "2"] as HttpVersion[]) {
    it(`stats files, directories and symlinks (HTTP/${v})`, async () => {
      const fs = h.filesystemClient(v);
      await writeFile(join(h.root, `f${v}.txt`), "hello");
      await chmod(join(h.root, `f${v}.txt`), 0o640);
      await symlink(`f${v}.txt`, join(h.root, `l${v}`));
      const { entry } = await fs.stat({ path: `f${v}.txt` });
      assert.equal(entry?.type, pb.FileType.FILE);
      assert.equal(entry?.name, `f${v}.txt`);
      assert.equal(entry?.path, join(h.root, `f${v}.txt`));
      assert.equal(entry?.size, 5n);
      assert.equal(entry?.mode, 0o640);
      assert.equal(entry?.permissions, "-rw-r-----");
      assert.ok(entry?.owner);
      assert.ok((entry?.modifiedTime?.seconds ?? 0n) > 0n);
      const link = (await fs.stat({ path: join(h.root, `l${v}`) })).entry;
      assert.equal(link?.type, pb.FileType.SYMLINK);
      assert.equal(link?.symlinkTarget, `f${v}.txt`);
      const dir = (await fs.stat({ path: "~" })).entry;
      assert.equal(dir?.type, pb.FileType.DIRECTORY);
      assert.match(dir?.permissions ?? "", /^d/);
    });
  }

  it("makes directories with parents and refuses an existing path", async () => {
    const fs = h.filesystemClient();
    const { entry } = await fs.makeDir({ path: "a/b/c" });
    assert.equal(entry?.path, join(h.root, "a/b/c"));
    assert.equal(entry?.type, pb.FileType.DIRECTORY);
    assert.equal(await codeOf(fs.makeDir({ path: "a/b/c" })), Code.AlreadyExists);
    await writeFile(join(h.root, "a/file"), "x");
    assert.equal(await codeOf(fs.makeDir({ path: "a/file" })), Code.AlreadyExists);
    assert.equal(await codeOf(fs.makeDir({ path: "a/file/sub" })), Code.InvalidArgument, "parent is not a directory");
    assert.equal(await codeOf(fs.makeDir({ path: "" })), Code.InvalidArgument);
  });

  it("lists one level by default and deeper with depth", async () => {
    const fs = h.filesystemClient();
    await mkdir(join(h.root, "tree/x/y/z"), { recursive: true });
    await writeFile(join(h.root, "tree/top.txt"), "1");
    await writeFile(join(h.root, "tree/x/y/deep.txt"), "2");
    const names = async (depth: number) =>
      (await fs.listDir({ path: "tree", depth })).entries.map((e) => e.path.slice(h.root.length + 6)).sort();
    assert.deepEqual(await names(0), ["top.txt", "x"]);
    assert.deepEqual(await names(1), ["top.txt", "x"]);
    assert.deepEqual(await names(2), ["top.txt", "x", "x/y"]);
    assert.deepEqual(await names(10), ["top.txt", "x", "x/y", "x/y/deep.txt", "x/y/z"]);
    assert.equal(await codeOf(fs.listDir({ path: "tree/top.txt" })), Code.InvalidArgument);
    assert.equal(await codeOf(fs.listDir({ path: "nope" })), Code.NotFound);
  });

  it("moves files, creating the destination's parents, and removes trees", async () => {
    const fs = h.filesystemClient();
    await writeFile(join(h.root, "m.txt"), "move me");
    const { entry } = await fs.move({ source: "m.txt", destination: "moved/into/n.txt" });
    assert.equal(entry?.path, join(h.root, "moved/into/n.txt"));
    assert.equal(await readFile(join(h.root, "moved/into/n.txt"), "utf8"), "move me");
    assert.equal(await codeOf(fs.stat({ path: "m.txt" })), Code.NotFound);
    assert.equal(await codeOf(fs.move({ source: "m.txt", destination: "x.txt" })), Code.NotFound);
    await fs.remove({ path: "moved" });
    assert.equal(await codeOf(fs.stat({ path: "moved" })), Code.NotFound);
    assert.equal(await codeOf(fs.remove({ path: "moved" })), Code.NotFound);
  });

  it("refuses what envd itself may not do with permission_denied", async (t) => {
    const fs = h.filesystemClient();
    const file = join(h.root, "guarded.txt");
    await writeFile(file, "x");
    if (process.getuid?.() === 0) {
      // Root ignores mode bits; an immutable file is refused even to root (EPERM).
      try {
        execFileSync("chattr", ["+i", file], { stdio: "ignore" });
      } catch {
        return t.skip("chattr +i is not available here");
      }
      try {
        assert.equal(await codeOf(fs.remove({ path: "guarded.txt" })), Code.PermissionDenied);
        assert.equal(await codeOf(fs.move({ source: "guarded.txt", destination: "g2" })), Code.PermissionDenied);
      } finally {
        execFileSync("chattr", ["-i", file]);
      }
      return;
    }
    await mkdir(join(h.root, "locked"));
    await chmod(join(h.root, "locked"), 0o000);
    try {
      assert.equal(await codeOf(fs.makeDir({ path: "locked/sub" })), Code.PermissionDenied);
    } finally {
      await chmod(join(h.root, "locked"), 0o700);
    }
  });

  it("streams watch events for create, write, chmod, rename and remove", async () => {
    const fs = h.filesystemClient("2");
    await mkdir(join(h.root, "w/sub"), { recursive: true });
    const ac = new AbortController();
    const events: string[] = [];
    const stream = fs.watchDir({ path: "w", recursive: true }, { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.event.case, "start");
    const pump = (async () => {
      for (;;) {
        const r = await it.next().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return;
        const ev = r.value.event;
        if (ev.case === "filesystem") events.push(`${pb.EventType[ev.value.type]}:${ev.value.name}`);
      }
    })();
    const seen = (e: string) => waitFor(e, () => (events.includes(e) ? true : undefined));
    await writeFile(join(h.root, "w/a.txt"), "1");
    await seen("CREATE:a.txt");
    await writeFile(join(h.root, "w/a.txt"), "12", { flag: "a" });
    await seen("WRITE:a.txt");
    await chmod(join(h.root, "w/a.txt"), 0o600);
    await seen("CHMOD:a.txt");
    await rename(join(h.root, "w/a.txt"), join(h.root, "w/b.txt"));
    await seen("RENAME:a.txt");
    await seen("CREATE:b.txt");
    await writeFile(join(h.root, "w/sub/deep.txt"), "x");
    await seen("CREATE:sub/deep.txt");
    await rm(join(h.root, "w/b.txt"));
    await seen("REMOVE:b.txt");
    assert.ok(!events.includes("REMOVE:a.txt"), "a rename is not reported as a removal");
    // A file created and removed at once (well within the rename pairing window) is a removal, not a rename.
    await writeFile(join(h.root, "w/quick.txt"), "q");
    await rm(join(h.root, "w/quick.txt"));
    await seen("REMOVE:quick.txt");
    assert.ok(!events.includes("RENAME:quick.txt"), "create + remove is not a rename");
    ac.abort();
    await pump;
    assert.equal(
      await codeOf(fs.watchDir({ path: "w/sub/deep.txt" })[Symbol.asyncIterator]().next()),
      Code.InvalidArgument,
    );
  });

  it("serves the polling watcher: create, get events, remove", async () => {
    const fs = h.filesystemClient();
    await mkdir(join(h.root, "poll"));
    const { watcherId } = await fs.createWatcher({ path: "poll", recursive: false });
    assert.ok(watcherId);
    await writeFile(join(h.root, "poll/one"), "1");
    const got = await waitFor("polled CREATE", async () => {
      const { events } = await fs.getWatcherEvents({ watcherId });
      return events.find((e) => e.type === pb.EventType.CREATE && e.name === "one");
    });
    assert.equal(got.name, "one");
    await fs.removeWatcher({ watcherId });
    assert.equal(await codeOf(fs.getWatcherEvents({ watcherId })), Code.NotFound);
    assert.equal(await codeOf(fs.removeWatcher({ watcherId })), Code.NotFound);
    assert.equal(await codeOf(fs.createWatcher({ path: "nope" })), Code.NotFound);
  });
});
