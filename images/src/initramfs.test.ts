import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { BuildError } from "./build-error.ts";
import { readGuestFile } from "./guest-files.ts";
import { buildInitramfs, hasInterpreter, readStaticBusybox } from "./initramfs.ts";
import { runCommand } from "./run-command.ts";

describe("buildInitramfs", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("packs /init, busybox with applet links, modules and their load order", async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-initrd-"));
    dirs.push(d);
    const initScript = await readGuestFile("initramfs-init.sh");
    const img = buildInitramfs({
      initScript,
      busybox: Buffer.from("not really busybox"),
      modules: [
        { name: "virtio_ring", depends: [], bytes: Buffer.from("ring") },
        { name: "virtio", depends: ["virtio_ring"], bytes: Buffer.from("virtio") },
      ],
    });
    await writeFile(join(d, "initrd.cpio"), gunzipSync(img));
    const { stdout } = await runCommand("sh", ["-c", 'cpio -it --quiet < "$1"', "list", join(d, "initrd.cpio")]);
    const names = stdout.trim().split("\n");
    for (const want of [
      "init",
      "bin/busybox",
      "bin/sh",
      "bin/insmod",
      "bin/switch_root",
      "dev/console",
      "newroot",
      "lib/modules/virtio_ring.ko",
      "lib/modules/virtio.ko",
      "lib/modules/load-order",
    ]) {
      assert.ok(names.includes(want), `${want} in ${names.join(" ")}`);
    }
    await runCommand("sh", ["-c", 'cd "$1" && cpio -id --quiet init lib/modules/load-order < initrd.cpio', "x", d]);
    assert.equal(await readFile(join(d, "lib/modules/load-order"), "utf8"), "virtio_ring\nvirtio\n");
    assert.equal(await readFile(join(d, "init"), "utf8"), initScript);
  });
});

describe("readStaticBusybox / hasInterpreter", () => {
  it("tells a dynamically linked binary by its PT_INTERP header", async () => {
    assert.equal(hasInterpreter(await readFile(process.execPath)), true);
  });

  it("rejects a dynamic binary and a missing file with the busybox-static hint", async () => {
    const hint = (e: unknown) => e instanceof BuildError && e.hint === "apt-get install -y busybox-static";
    await assert.rejects(readStaticBusybox(process.execPath), hint);
    await assert.rejects(readStaticBusybox("/nonexistent/busybox"), hint);
  });
});
