import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { collectModules, type KernelModule, modinfoField, orderModules } from "./kernel-modules.ts";
import { runCommand } from "./run-command.ts";

/** A fake module: ELF-ish bytes with a .modinfo-like string table, as `strings` would see it. */
function fakeKo(name: string, depends: string[]): Buffer {
  return Buffer.concat([
    Buffer.from("\x7fELF\0\0junk\0"),
    Buffer.from(`license=GPL\0depends=${depends.join(",")}\0name=${name}\0vermagic=6.1\0`),
  ]);
}
const mod = (name: string, depends: string[] = []): KernelModule => ({ name, depends, bytes: Buffer.alloc(0) });

describe("modinfoField", () => {
  it("reads depends= and name=, empty depends as empty string", () => {
    assert.equal(modinfoField(fakeKo("virtio_net", ["virtio_ring", "virtio"]), "depends"), "virtio_ring,virtio");
    assert.equal(modinfoField(fakeKo("failover", []), "depends"), "");
    assert.equal(modinfoField(fakeKo("failover", []), "name"), "failover");
    assert.equal(modinfoField(Buffer.from("nothing here"), "depends"), undefined);
  });
});

describe("orderModules", () => {
  it("puts every module after its dependencies", () => {
    const order = orderModules([
      mod("virtio_net", ["virtio_ring", "virtio", "net_failover"]),
      mod("net_failover", ["failover"]),
      mod("virtio", ["virtio_ring"]),
      mod("failover"),
      mod("virtio_ring"),
    ]).map((m) => m.name);
    for (const [before, later] of [
      ["virtio_ring", "virtio"],
      ["virtio", "virtio_net"],
      ["failover", "net_failover"],
      ["net_failover", "virtio_net"],
    ]) {
      assert.ok(
        order.indexOf(before as string) < order.indexOf(later as string),
        `${before} before ${later} in ${order}`,
      );
    }
  });

  it("ignores dependencies that are not in the set (built into the kernel)", () => {
    assert.deepEqual(
      orderModules([mod("virtio_scsi", ["scsi_mod"])]).map((m) => m.name),
      ["virtio_scsi"],
    );
  });

  it("rejects a dependency cycle", () => {
    assert.throws(
      () => orderModules([mod("a", ["b"]), mod("b", ["a"])]),
      (e: unknown) => e instanceof BuildError && e.code === "bad_artifact",
    );
  });
});

describe("collectModules", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function tree(files: Record<string, Buffer>): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), "wrenn-kmod-"));
    dirs.push(d);
    for (const [rel, bytes] of Object.entries(files)) {
      await mkdir(join(d, rel, ".."), { recursive: true });
      await writeFile(join(d, rel), bytes);
    }
    return d;
  }

  it("finds wanted modules and their dependencies, decompresses .ko.xz, maps - to _", async () => {
    const d = await tree({
      "kernel/drivers/virtio/virtio_ring.ko": fakeKo("virtio_ring", []),
      "kernel/drivers/virtio/virtio.ko": fakeKo("virtio", ["virtio_ring"]),
      "kernel/drivers/block/virtio_blk.ko": fakeKo("virtio_blk", ["virtio", "virtio_ring"]),
      "kernel/drivers/char/hw_random/virtio-rng.ko": fakeKo("virtio_rng", ["virtio", "virtio_ring"]),
      "kernel/drivers/virtio/virtio_mmio.ko": fakeKo("virtio_mmio", ["virtio", "virtio_ring"]),
      "kernel/net/core/helper.ko": fakeKo("helper", []),
    });
    // virtio_mmio ships compressed here: the collector must hand back the raw object.
    await runCommand("xz", ["-z", join(d, "kernel/drivers/virtio/virtio_mmio.ko")]);
    const mods = await collectModules(d, ["virtio_blk", "virtio_mmio", "virtio_rng", "virtio_net"]);
    const names = mods.map((m) => m.name);
    assert.deepEqual(new Set(names), new Set(["virtio_ring", "virtio", "virtio_blk", "virtio_mmio", "virtio_rng"]));
    assert.equal(names[0], "virtio_ring");
    const mmio = mods.find((m) => m.name === "virtio_mmio");
    assert.equal(modinfoField(mmio!.bytes, "name"), "virtio_mmio");
  });

  it("fails when a module needed to boot is missing", async () => {
    const d = await tree({ "kernel/x/virtio_ring.ko": fakeKo("virtio_ring", []) });
    await assert.rejects(
      collectModules(d, ["virtio_ring", "virtio_blk"]),
      (e: unknown) => e instanceof BuildError && /virtio_blk/.test(e.message),
    );
  });
});
