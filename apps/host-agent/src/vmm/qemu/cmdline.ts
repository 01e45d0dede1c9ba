/**
 * Builds QEMU command lines for the `microvm` machine, exactly the recipe measured in vm.md §9. A template VM and
 * its clones get identical device models; only host-side paths, the forwarded port and the memory sharing differ.
 */
import { join } from "node:path";
import type { VmSpec } from "../vmm.ts";

/** Bumped whenever the produced command line changes shape: it is part of every warm template's cache key. */
export const CMDLINE_VERSION = 2;

/**
 * TCG translation cache per VM, MiB. QEMU 7.2 defaults to 1 GiB, filled and never trimmed, so a busy capsule could
 * keep up to 1 GiB of host memory in translated code. Measured on a 2-core host (python3 start-up + imports + a
 * 300k-iteration loop, steady state): default 1.24 s, 128 MiB 1.25-1.6 s, 64 MiB 2.6-4.4 s, 16 MiB 11.2 s (the
 * cache thrashes). An idle clone translates ~50-90 MiB after restore, so no smaller cap helps idle memory without
 * slowing active capsules.
 */
export const TCG_TB_SIZE_MB = 128;

/** MAC of the virtio-net device. Identical for every VM (it is in the migrated device state); clones get their
 * own address from envd /init instead. */
export const DEVICE_MAC = "52:54:00:12:34:56";

/** Id of the user-networking netdev (QMP `hostfwd_add` names it to add port forwards at run time). */
export const NETDEV_ID = "n0";

/** How the process is started. */
export interface CmdlineOptions {
  readonly accelerator: "kvm" | "tcg";
  /** Start paused and wait for `migrate-incoming` (restores). */
  readonly incoming: boolean;
  /**
   * With `incoming`: the state is device state only (`xen-save-devices-state`) and the RAM is already in the memory
   * file. It is still loaded as an incoming migration (`xen-load-devices-state` crashes QEMU 7.2 on its yank
   * assertion, and the incoming state keeps QEMU from writing ROM blobs into the mapped RAM at reset), but that
   * stream has no configuration section, so QEMU must not expect one.
   */
  readonly devicesOnly?: boolean;
}

/** Paths of the files a VM writes in its folder. */
export function vmFiles(dir: string) {
  return {
    qmpSocket: join(dir, "qmp.sock"),
    console: join(dir, "console.log"),
    stdout: join(dir, "qemu.out"),
    stderr: join(dir, "qemu.err"),
  };
}

/** QEMU's option parser splits on commas; a literal comma in a value is written twice. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * Kernel arguments of TCG guests.
 * - The TSC ones make boots reliable (vm.md §2): without them the guest can hang calibrating its TSC.
 * - `NODE_OPTIONS=--jitless` runs envd's V8 without its JIT compilers. The kernel hands unknown `name=value`
 *   arguments to init as environment, and wrenn-init passes it on to envd; envd gives its processes an environment of
 *   their own, so they never see it. Why: under TCG all guest machine code is translated before it runs, again from
 *   scratch after every restore. JIT'd code is new machine code per function (and code-page writes flush
 *   translations), while the interpreter's handlers are shared by all JavaScript. Measured here: resume to envd
 *   answering p50 536 → 412 ms (bench/persist-pause-resume.ts), envd's overhead on /bin/true in the guest p50 48.7 → 39.3 ms (p95 212 → 106 ms).
 *   On KVM nothing is translated, so the JIT stays on there.
 * - `norandmaps` turns off address-space randomization in the guest. QEMU finds a translation by guest virtual
 *   address, so a library mapped at a new random address in every process (ld.so and libc in each command) is
 *   translated again from scratch in every process: /bin/true cost ~30-50 ms of translation, and ~100 commands filled
 *   the translation cache (TCG_TB_SIZE_MB), whose flush threw away envd's translated code too ("info jit": 3 flushes
 *   per ~350 envd calls, none with it). Measured in the guest: posix_spawn + wait of /bin/true p50 35-55 → 10-16 ms,
 *   envd Start of it 56-83 → 27-43 ms. The capsule is the isolation boundary, not ASLR inside it; a user who wants
 *   ASLR back in one capsule runs `sysctl kernel.randomize_va_space=2` (as root) there. Never passed on KVM.
 */
export function tcgKernelArgs(tscKhz: number): string {
  return `tsc_early_khz=${tscKhz} tsc=reliable no_timer_check NODE_OPTIONS=--jitless norandmaps`;
}

/** The argument vector (without the binary). */
export function buildQemuArgs(spec: VmSpec, options: CmdlineOptions): string[] {
  const files = vmFiles(spec.dir);
  const e = escapeOptionValue;
  const tcg = options.accelerator === "tcg";
  const args = [
    "-name",
    `wrenn-${spec.name}`,
    "-M",
    "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem",
    "-accel",
    tcg ? `tcg,${spec.vcpus > 1 ? "thread=multi," : ""}tb-size=${TCG_TB_SIZE_MB}` : options.accelerator,
    // +arat lets an idle guest stop its tick (~0.7 % of a core idle instead of ~5 %), vm.md §7.
    "-cpu",
    tcg ? "qemu64,+arat,+tsc-deadline,+invtsc" : "host",
    "-m",
    `${spec.memoryMb}M`,
    "-smp",
    String(spec.vcpus),
    "-object",
    `memory-backend-file,id=mem,size=${spec.memoryMb}M,mem-path=${e(spec.memoryFile)},share=${spec.memoryShared ? "on" : "off"}`,
    "-nodefaults",
    "-no-user-config",
    "-nographic",
    "-no-reboot",
    "-kernel",
    spec.kernelPath,
  ];
  if (spec.initrdPath) args.push("-initrd", spec.initrdPath);
  args.push(
    "-append",
    spec.kernelArgs,
    "-serial",
    `file:${files.console}`,
    "-drive",
    `id=root,file=${e(spec.diskPath)},format=qcow2,if=none,cache=unsafe`,
    "-device",
    "virtio-blk-device,drive=root",
    "-netdev",
    `user,id=${NETDEV_ID},hostfwd=tcp:127.0.0.1:${spec.hostPort}-:${spec.guestPort}`,
    "-device",
    `virtio-net-device,netdev=${NETDEV_ID},mac=${DEVICE_MAC}`,
    "-qmp",
    `unix:${e(files.qmpSocket)},server=on,wait=off`,
  );
  // -S keeps the restored guest stopped until the agent says `cont`, so it never runs half-loaded.
  if (options.incoming) args.push("-S", "-incoming", "defer");
  if (options.incoming && options.devicesOnly) args.push("-global", "migration.send-configuration=off");
  return args;
}

/** The guest kernel command line of the boot contract (docs/architecture.md "Guest boot"). */
export function guestKernelArgs(acceleratorArgs: string, extra: string): string {
  return ["console=ttyS0 quiet panic=-1 root=/dev/vda rw rootfstype=ext4 init=/sbin/wrenn-init", acceleratorArgs, extra]
    .filter(Boolean)
    .join(" ");
}
