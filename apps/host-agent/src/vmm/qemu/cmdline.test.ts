import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { VmSpec } from "../vmm.ts";
import { buildQemuArgs, escapeOptionValue, guestKernelArgs, tcgKernelArgs } from "./cmdline.ts";

const spec: VmSpec = {
  name: "cl-abc",
  dir: "/r/sandboxes/cl-abc",
  vcpus: 1,
  memoryMb: 256,
  kernelPath: "/r/kernels/vmlinuz",
  initrdPath: "/r/kernels/initrd.img",
  kernelArgs: guestKernelArgs(tcgKernelArgs(2100000), ""),
  diskPath: "/r/sandboxes/cl-abc/overlay.qcow2",
  memoryFile: "/r/templates/k/memory",
  memoryShared: false,
  hostPort: 40001,
  guestPort: 49983,
};

/** Value following a flag (first occurrence). */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildQemuArgs", () => {
  it("uses the vm.md TCG recipe: microvm with rtc on, ARAT cpu, no reboot", () => {
    const args = buildQemuArgs(spec, { accelerator: "tcg", incoming: false });
    assert.equal(after(args, "-M"), "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem");
    assert.equal(after(args, "-accel"), "tcg,tb-size=128", "translation cache capped (QEMU's default is 1 GiB)");
    assert.equal(after(args, "-cpu"), "qemu64,+arat,+tsc-deadline,+invtsc");
    for (const flag of ["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"]) assert.ok(args.includes(flag));
    assert.ok(!args.includes("-incoming"));
  });

  it("forwards a loopback port to the guest agent and backs RAM with the template's memory file", () => {
    const args = buildQemuArgs(spec, { accelerator: "tcg", incoming: false });
    assert.equal(after(args, "-netdev"), "user,id=n0,hostfwd=tcp:127.0.0.1:40001-:49983");
    assert.equal(
      after(args, "-object"),
      "memory-backend-file,id=mem,size=256M,mem-path=/r/templates/k/memory,share=off",
    );
    assert.equal(after(args, "-initrd"), "/r/kernels/initrd.img");
    assert.equal(after(args, "-qmp"), "unix:/r/sandboxes/cl-abc/qmp.sock,server=on,wait=off");
  });

  it("keeps the device model of a clone identical to its template's", () => {
    const template = buildQemuArgs(
      { ...spec, memoryShared: true, hostPort: 1, dir: "/t", diskPath: "/t/d" },
      {
        accelerator: "tcg",
        incoming: false,
      },
    );
    const clone = buildQemuArgs(spec, { accelerator: "tcg", incoming: true });
    const devices = (a: string[]) => a.filter((_, i) => a[i - 1] === "-device");
    assert.deepEqual(devices(clone), devices(template));
    assert.equal(after(clone, "-append"), after(template, "-append"));
    assert.deepEqual(clone.slice(-3), ["-S", "-incoming", "defer"]);
  });

  it("loads a device-only state as an incoming migration that expects no configuration section", () => {
    const resumed = buildQemuArgs(spec, { accelerator: "tcg", incoming: true, devicesOnly: true });
    assert.deepEqual(resumed.slice(-5), ["-S", "-incoming", "defer", "-global", "migration.send-configuration=off"]);
    const clone = buildQemuArgs(spec, { accelerator: "tcg", incoming: true });
    assert.ok(!clone.includes("migration.send-configuration=off"), "stream states keep QEMU's configuration check");
  });

  it("uses the host CPU and multi-threaded TCG only where they apply", () => {
    assert.equal(after(buildQemuArgs(spec, { accelerator: "kvm", incoming: false }), "-cpu"), "host");
    assert.equal(
      after(buildQemuArgs({ ...spec, vcpus: 2 }, { accelerator: "tcg", incoming: false }), "-accel"),
      "tcg,thread=multi,tb-size=128",
    );
  });

  it("doubles commas in paths so QEMU does not split them", () => {
    assert.equal(escapeOptionValue("/a,b/c"), "/a,,b/c");
    const args = buildQemuArgs({ ...spec, diskPath: "/x,y/o.qcow2" }, { accelerator: "tcg", incoming: false });
    assert.equal(after(args, "-drive"), "id=root,file=/x,,y/o.qcow2,format=qcow2,if=none,cache=unsafe");
  });
});

describe("guestKernelArgs", () => {
  it("follows the boot contract and appends TCG timing and extra arguments", () => {
    assert.equal(
      guestKernelArgs(tcgKernelArgs(2445406), "init=/nope"),
      "console=ttyS0 quiet panic=-1 root=/dev/vda rw rootfstype=ext4 init=/sbin/wrenn-init " +
        "tsc_early_khz=2445406 tsc=reliable no_timer_check NODE_OPTIONS=--jitless norandmaps init=/nope",
    );
  });
});
