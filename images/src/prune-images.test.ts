import assert from "node:assert/strict";
import { lutimes, mkdir, mkdtemp, open, readdir, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { hostLayout } from "./host-layout.ts";
import type { Progress } from "./progress.ts";
import { pruneImageVersions, pruneOldImages } from "./prune-images.ts";

const DAY_S = 24 * 60 * 60;
const CURRENT = "rootfs-00000000000000cc.ext4";
const OLD_A = "rootfs-000000000000000a.ext4";
const OLD_B = "rootfs-000000000000000b.ext4";
const noOpenFiles = async () => new Set<string>();

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "wrenn-prune-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A files root with images/minimal/ holding `versions` (the first one linked as current), all days old. */
async function makeRoot(name: string, versions: string[]): Promise<{ root: string; imageDir: string }> {
  const root = join(scratch, name);
  const imageDir = join(root, "images", "minimal");
  await mkdir(imageDir, { recursive: true });
  const old = Date.now() / 1000 - 3 * DAY_S;
  for (const [i, v] of versions.entries()) {
    await writeFile(join(imageDir, v), `ext4 bytes of ${v}`);
    await utimes(join(imageDir, v), old + i * 60, old + i * 60);
  }
  await symlink(versions[0]!, join(imageDir, "rootfs.ext4"));
  await lutimes(join(imageDir, "rootfs.ext4"), old, old);
  return { root, imageDir };
}

/** Writes a qcow2 header (version 3) naming `backing` as its backing file, as `qemu-img create -b` does. */
async function writeOverlay(path: string, backing: string): Promise<void> {
  const name = Buffer.from(backing);
  const header = Buffer.alloc(112 + name.length);
  header.writeUInt32BE(0x514649fb, 0);
  header.writeUInt32BE(3, 4);
  header.writeBigUInt64BE(112n, 8);
  header.writeUInt32BE(name.length, 16);
  name.copy(header, 112);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, header);
}

describe("pruneImageVersions", () => {
  it("deletes superseded versions nothing uses and never the one rootfs.ext4 links to", async () => {
    // The current version is the oldest file here, so only the link says it is current.
    const { imageDir } = await makeRoot("unused", [CURRENT, OLD_A, OLD_B]);
    const r = await pruneImageVersions({ imageDir, overlayRoots: [], graceMs: 0, openFiles: noOpenFiles });
    assert.deepEqual(r.removed.sort(), [join(imageDir, OLD_A), join(imageDir, OLD_B)]);
    assert.ok(r.freedBytes >= 0);
    assert.deepEqual((await readdir(imageDir)).sort(), [CURRENT, "rootfs.ext4"]);
    assert.equal(await readlink(join(imageDir, "rootfs.ext4")), CURRENT);
  });

  it("keeps a version a qcow2 under the overlay roots names as backing file, by absolute, relative or linked path", async () => {
    const linked = [OLD_A, OLD_B, "rootfs-000000000000000d.ext4"];
    const { root, imageDir } = await makeRoot("backing", [CURRENT, ...linked, "rootfs-000000000000000e.ext4"]);
    // A warm template backed by an absolute path, a team template by a path relative to its own folder, and a
    // test root whose images/ is a link to this one (it names the file through the link).
    await writeOverlay(join(root, "templates", "minimal-1-512", "disk.qcow2"), join(imageDir, OLD_A));
    await writeOverlay(join(root, "team-templates", "t1", "n1", "disk.qcow2"), `../../../images/minimal/${OLD_B}`);
    const testRoot = join(scratch, "backing-test-root");
    await mkdir(testRoot);
    await symlink(join(root, "images"), join(testRoot, "images"));
    await writeOverlay(
      join(testRoot, "snapshots", "c1", "disk.qcow2"),
      join(testRoot, "images", "minimal", linked[2]!),
    );
    // A capsule overlay backed by the template's disk, and files that only look like qcow2: no references.
    await writeOverlay(join(root, "sandboxes", "c2", "overlay.qcow2"), "../../templates/minimal-1-512/disk.qcow2");
    await writeFile(join(root, "sandboxes", "c2", "junk.qcow2"), "not a qcow2");
    const r = await pruneImageVersions({
      imageDir,
      overlayRoots: [root, testRoot, join(scratch, "no-such-root")],
      graceMs: 0,
      openFiles: noOpenFiles,
    });
    assert.deepEqual(r.removed, [join(imageDir, "rootfs-000000000000000e.ext4")]);
    assert.deepEqual(
      r.kept.map((k) => [k.path, k.reason]).sort(),
      linked.map((v) => [join(imageDir, v), "backing"]),
    );
  });

  it("keeps a version a process holds open, and deletes it once closed", async () => {
    const { imageDir } = await makeRoot("open", [CURRENT, OLD_A]);
    const fh = await open(join(imageDir, OLD_A), "r");
    try {
      // The default scan of /proc/<pid>/fd sees this test process's descriptor.
      const r = await pruneImageVersions({ imageDir, overlayRoots: [], graceMs: 0 });
      assert.deepEqual(r.removed, []);
      assert.deepEqual(r.kept, [{ path: join(imageDir, OLD_A), reason: "open" }]);
    } finally {
      await fh.close();
    }
    const r = await pruneImageVersions({ imageDir, overlayRoots: [], graceMs: 0 });
    assert.deepEqual(r.removed, [join(imageDir, OLD_A)]);
  });

  it("keeps only the newest superseded version, for a day after the rebuild that superseded it", async () => {
    const { imageDir } = await makeRoot("grace", [CURRENT, OLD_A, OLD_B]);
    // OLD_B is the newest old build; the link was just replaced (a rebuild finished now).
    const now = Date.now();
    await lutimes(join(imageDir, "rootfs.ext4"), now / 1000, now / 1000);
    const r = await pruneImageVersions({ imageDir, overlayRoots: [], openFiles: noOpenFiles, now: () => now });
    assert.deepEqual(r.removed, [join(imageDir, OLD_A)]);
    assert.deepEqual(r.kept, [{ path: join(imageDir, OLD_B), reason: "grace" }]);
    const later = now + 25 * 60 * 60 * 1000;
    const r2 = await pruneImageVersions({ imageDir, overlayRoots: [], openFiles: noOpenFiles, now: () => later });
    assert.deepEqual(r2.removed, [join(imageDir, OLD_B)]);
  });

  it("leaves every file whose name is not exactly rootfs-<16 hex>.ext4", async () => {
    const { imageDir } = await makeRoot("names", [CURRENT]);
    const others = [
      "manifest.json",
      "rootfs-0a.ext4",
      "rootfs-000000000000000A.ext4",
      "rootfs-000000000000000g.ext4",
      "rootfs-0000000000000000a.ext4",
      "rootfs-000000000000000a.ext4.tmp",
      "xrootfs-000000000000000a.ext4",
      "rootfs-000000000000000a.qcow2",
    ];
    const old = Date.now() / 1000 - 3 * DAY_S;
    for (const name of others) {
      await writeFile(join(imageDir, name), "x");
      await utimes(join(imageDir, name), old, old);
    }
    // A folder and a link may carry the name, but only regular files are versions.
    await mkdir(join(imageDir, OLD_A));
    await symlink(CURRENT, join(imageDir, OLD_B));
    const r = await pruneImageVersions({ imageDir, overlayRoots: [], graceMs: 0, openFiles: noOpenFiles });
    assert.deepEqual(r.removed, []);
    assert.deepEqual((await readdir(imageDir)).sort(), [...others, CURRENT, OLD_A, OLD_B, "rootfs.ext4"].sort());
  });

  it("touches nothing when rootfs.ext4 is not a link (the current version is unknown)", async () => {
    const { imageDir } = await makeRoot("nolink", [CURRENT, OLD_A]);
    await rm(join(imageDir, "rootfs.ext4"));
    await writeFile(join(imageDir, "rootfs.ext4"), "an image from before versioning");
    const r = await pruneImageVersions({ imageDir, overlayRoots: [], graceMs: 0, openFiles: noOpenFiles });
    assert.deepEqual(r.removed, []);
    assert.equal((await readdir(imageDir)).length, 3);
  });
});

describe("pruneOldImages", () => {
  const recorder = () => {
    const lines: string[] = [];
    const progress: Progress = { info: (t) => lines.push(t), step: (_n, fn) => fn({ tick() {}, note() {} }) };
    return { lines, progress };
  };

  it("reports what it pruned and scans the builder's root for overlays", async () => {
    const { root, imageDir } = await makeRoot("report", [CURRENT, OLD_A, OLD_B]);
    await writeOverlay(join(root, "templates", "minimal-1-512", "disk.qcow2"), join(imageDir, OLD_B));
    const { lines, progress } = recorder();
    const r = await pruneOldImages("minimal", hostLayout(root), progress, undefined);
    assert.deepEqual(r?.removed, [join(imageDir, OLD_A)]);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^pruned 1 old minimal image version \(\d+ MiB\); kept 1 still in use or recent$/);
  });

  it("also scans the root that really holds the images when the builder's root links them in", async () => {
    const { root, imageDir } = await makeRoot("shared", [CURRENT, OLD_A, OLD_B]);
    await writeOverlay(join(root, "templates", "minimal-1-512", "disk.qcow2"), join(imageDir, OLD_A));
    const testRoot = join(scratch, "shared-test-root");
    await mkdir(testRoot);
    await symlink(join(root, "images"), join(testRoot, "images"));
    const { progress } = recorder();
    const r = await pruneOldImages("minimal", hostLayout(testRoot), progress, undefined);
    assert.deepEqual(r?.removed, [join(testRoot, "images", "minimal", OLD_B)]);
    assert.deepEqual(r?.kept, [{ path: join(testRoot, "images", "minimal", OLD_A), reason: "backing" }]);
  });

  it("scans the agent's root named by AGENT_FILES_ROOTDIR", async () => {
    const { root, imageDir } = await makeRoot("agent-env", [CURRENT, OLD_A]);
    const agentRoot = join(scratch, "agent-env-agent-root");
    await writeOverlay(join(agentRoot, "templates", "minimal-1-512", "disk.qcow2"), join(imageDir, OLD_A));
    const { progress } = recorder();
    const r = await pruneOldImages("minimal", hostLayout(root), progress, agentRoot);
    assert.deepEqual(r?.kept, [{ path: join(imageDir, OLD_A), reason: "backing" }]);
  });

  it("warns and keeps going when pruning fails", async () => {
    const root = join(scratch, "broken");
    await mkdir(join(root, "images"), { recursive: true });
    await writeFile(join(root, "images", "minimal"), "a file where a folder should be");
    const { lines, progress } = recorder();
    assert.equal(await pruneOldImages("minimal", hostLayout(root), progress, undefined), undefined);
    assert.match(lines[0]!, /^! minimal image: pruning old versions failed, all kept: /);
  });
});
