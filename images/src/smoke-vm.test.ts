import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { freePort, qemuArgs, tscKhzFrom } from "./smoke-vm.ts";

describe("tscKhzFrom", () => {
  it("prefers the refined calibration, then the detected rate, then cpuinfo", () => {
    const refined =
      "[0.0] tsc: Detected 2445.400 MHz processor\n[1.2] tsc: Refined TSC clocksource calibration: 2445.406 MHz\n";
    assert.equal(tscKhzFrom(refined, ""), 2445406);
    assert.equal(tscKhzFrom("[0.0] tsc: Detected 2100.000 MHz processor", "cpu MHz\t\t: 1800.0"), 2100000);
    assert.equal(tscKhzFrom("", "processor : 0\ncpu MHz\t\t: 2599.998\n"), 2599998);
    assert.equal(tscKhzFrom("", ""), undefined);
  });
});

describe("qemuArgs", () => {
  it("uses the TCG microvm recipe of vm.md §9 with the boot contract's command line", () => {
    const args = qemuArgs({
      kernelsDir: "/k",
      overlay: "/o.qcow2",
      consoleLog: "/c.log",
      hostPort: 4242,
      tscKhz: 2100000,
      memoryMb: 512,
    });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after("-M"), "microvm,x-option-roms=off,isa-serial=on,rtc=on");
    assert.equal(after("-accel"), "tcg");
    assert.equal(after("-cpu"), "qemu64,+arat,+tsc-deadline,+invtsc");
    assert.equal(after("-kernel"), "/k/vmlinuz");
    assert.equal(after("-initrd"), "/k/initrd.img");
    assert.match(
      after("-append") ?? "",
      /tsc_early_khz=2100000 tsc=reliable no_timer_check root=\/dev\/vda rw rootfstype=ext4 init=\/sbin\/wrenn-init/,
    );
    assert.equal(after("-netdev"), "user,id=n0,hostfwd=tcp:127.0.0.1:4242-:49983");
    assert.ok(args.includes("-no-reboot") && args.includes("-nodefaults"));
  });
});

describe("freePort", () => {
  it("returns a loopback port that can be bound", async () => {
    const port = await freePort();
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise((r) => srv.close(r));
  });
});
