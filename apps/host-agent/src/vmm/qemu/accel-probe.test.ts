import assert from "node:assert/strict";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "../../log.ts";
import { chooseAccelerator } from "./accel-probe.ts";

function kvmUsable(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

describe("chooseAccelerator", { skip: kvmUsable() ? false : "no /dev/kvm here" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "wrenn-accel-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // A stand-in QEMU that counts its starts and "boots" (prints what a kernel prints first) or stays silent.
  const fakeQemu = (name: string, boots: boolean) => {
    const path = join(dir, name);
    const counter = join(dir, `${name}.count`);
    writeFileSync(counter, "");
    writeFileSync(path, `#!/bin/sh\necho x >> ${counter}\n${boots ? "echo 'Linux version 6.1'\n" : ""}sleep 5\n`, {
      mode: 0o755,
    });
    return { path, starts: () => readFileSync(counter, "utf8").split("\n").filter(Boolean).length };
  };
  const kernel = join(dir, "vmlinuz");
  writeFileSync(kernel, "kernel");
  const base = {
    requested: "auto" as const,
    qemuVersion: "QEMU 7.2",
    initrdPath: undefined,
    log: createLogger("silent"),
  };

  it("probes once, then every agent (any files root, any link to the same kernel) reuses the verdict", async () => {
    const qemu = fakeQemu("qemu-boots", true);
    const cacheDir = join(dir, "cache-a");
    const o = { ...base, qemuBin: qemu.path, kernelPath: kernel, cacheDir };
    assert.equal(await chooseAccelerator(o), "kvm");
    assert.equal(qemu.starts(), 1);
    const otherRoot = join(dir, "other-root-vmlinuz");
    symlinkSync(kernel, otherRoot);
    assert.equal(await chooseAccelerator({ ...o, kernelPath: otherRoot }), "kvm");
    assert.equal(qemu.starts(), 1, "the cached verdict answered");
    assert.equal(await chooseAccelerator({ ...o, qemuVersion: "QEMU 8.2" }), "kvm");
    assert.equal(qemu.starts(), 2, "another QEMU version probes again");
  });

  it("caches a KVM that never prints as TCG, and an explicit choice skips the probe", async () => {
    const qemu = fakeQemu("qemu-hangs", false);
    const o = { ...base, qemuBin: qemu.path, kernelPath: kernel, cacheDir: join(dir, "cache-b"), timeoutMs: 300 };
    assert.equal(await chooseAccelerator(o), "tcg");
    assert.equal(await chooseAccelerator(o), "tcg");
    assert.equal(qemu.starts(), 1);
    assert.equal(await chooseAccelerator({ ...o, requested: "kvm", cacheDir: join(dir, "cache-c") }), "kvm");
    assert.equal(qemu.starts(), 1);
  });
});
