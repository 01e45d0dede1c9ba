import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { runCommand } from "./run-command.ts";

/**
 * The host's TSC rate in kHz, which TCG passes through to the guest. Taken from the kernel log
 * ("Refined TSC clocksource calibration" beats "tsc: Detected"), else /proc/cpuinfo "cpu MHz".
 */
export function tscKhzFrom(dmesg: string, cpuinfo: string): number | undefined {
  const refined = /Refined TSC clocksource calibration: ([\d.]+) MHz/.exec(dmesg);
  const detected = /tsc: Detected ([\d.]+) MHz/.exec(dmesg);
  const cpu = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  const mhz = refined?.[1] ?? detected?.[1] ?? cpu?.[1];
  return mhz ? Math.round(Number(mhz) * 1000) : undefined;
}

/** Reads {@link tscKhzFrom} inputs from this host; dmesg may be unreadable, cpuinfo is enough. */
export async function hostTscKhz(): Promise<number> {
  const dmesg = await runCommand("dmesg", [], { timeoutMs: 10_000 }).then(
    (r) => r.stdout,
    () => "",
  );
  const khz = tscKhzFrom(dmesg, await readFile("/proc/cpuinfo", "utf8"));
  if (!khz) throw new Error("cannot tell the host's TSC rate from dmesg or /proc/cpuinfo");
  return khz;
}

/** A free loopback TCP port (the kernel picks it; there is a small window before QEMU binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** What the smoke VM boots. */
export interface SmokeVmSpec {
  kernelsDir: string;
  overlay: string;
  consoleLog: string;
  hostPort: number;
  tscKhz: number;
  memoryMb: number;
  /** Extra kernel arguments appended last (e.g. "ro", "wrenn.ip=…"); later ones win. */
  appendExtra?: string;
}

/** The QEMU TCG command line of vm.md §9 for one microvm with a virtio disk and user networking. */
export function qemuArgs(spec: SmokeVmSpec): string[] {
  const append = [
    "console=ttyS0 quiet panic=-1",
    `tsc_early_khz=${spec.tscKhz} tsc=reliable no_timer_check`,
    "root=/dev/vda rw rootfstype=ext4 init=/sbin/wrenn-init",
    spec.appendExtra ?? "",
  ]
    .join(" ")
    .trim();
  return [
    ...[
      "-M",
      "microvm,x-option-roms=off,isa-serial=on,rtc=on",
      "-accel",
      "tcg",
      "-cpu",
      "qemu64,+arat,+tsc-deadline,+invtsc",
    ],
    ...["-m", String(spec.memoryMb), "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot"],
    ...["-kernel", join(spec.kernelsDir, "vmlinuz"), "-initrd", join(spec.kernelsDir, "initrd.img"), "-append", append],
    ...["-serial", `file:${spec.consoleLog}`],
    ...[
      "-drive",
      `id=root,file=${spec.overlay},format=qcow2,if=none,cache=unsafe`,
      "-device",
      "virtio-blk-device,drive=root",
    ],
    ...[
      "-netdev",
      `user,id=n0,hostfwd=tcp:127.0.0.1:${spec.hostPort}-:49983`,
      "-device",
      "virtio-net-device,netdev=n0",
    ],
  ];
}

/** One QEMU process; {@link SmokeVm.stop} kills it and waits for it to exit (bounded). */
export class SmokeVm {
  #child: ChildProcess;
  #exited: Promise<number | null>;
  stderr = "";

  constructor(spec: SmokeVmSpec) {
    this.#child = spawn("qemu-system-x86_64", qemuArgs(spec), { stdio: ["ignore", "ignore", "pipe"] });
    this.#child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      this.stderr = (this.stderr + c).slice(-4096);
    });
    this.#exited = new Promise((resolve) => {
      this.#child.once("exit", (code) => resolve(code));
      this.#child.once("error", () => resolve(-1));
    });
  }

  /** True while QEMU runs. */
  get isRunning(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
