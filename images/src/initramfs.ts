import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { BuildError } from "./build-error.ts";
import { type CpioEntry, writeCpioNewc } from "./cpio-newc.ts";
import type { KernelModule } from "./kernel-modules.ts";

/** Busybox applets the initramfs /init calls; each gets a /bin symlink. */
const APPLETS = ["sh", "mount", "mkdir", "insmod", "sleep", "switch_root", "cat", "cut", "echo"];

/** Inputs of {@link buildInitramfs}. */
export interface InitramfsInputs {
  /** The initramfs /init script (guest/initramfs-init.sh). */
  initScript: string;
  /** A statically linked busybox (the host's busybox-static). */
  busybox: Buffer;
  /** Modules in load order (from collectModules). */
  modules: readonly KernelModule[];
}

/**
 * Builds the gzip-compressed initramfs: /init, a static busybox with applet links, the modules as
 * /lib/modules/<name>.ko plus /lib/modules/load-order, /dev/console, and the /newroot mount point.
 */
export function buildInitramfs(inputs: InitramfsInputs): Buffer {
  const entries: CpioEntry[] = [
    { kind: "dir", path: "bin" },
    { kind: "dir", path: "dev" },
    // The kernel opens /dev/console for /init before anything is mounted; without this node /init has no output.
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
    { kind: "dir", path: "lib" },
    { kind: "dir", path: "lib/modules" },
    { kind: "dir", path: "newroot" },
    { kind: "dir", path: "proc" },
    { kind: "dir", path: "sys" },
    { kind: "file", path: "init", data: inputs.initScript, mode: 0o755 },
    { kind: "file", path: "bin/busybox", data: inputs.busybox, mode: 0o755 },
    ...APPLETS.map((a): CpioEntry => ({ kind: "symlink", path: `bin/${a}`, target: "busybox" })),
    ...inputs.modules.map((m): CpioEntry => ({ kind: "file", path: `lib/modules/${m.name}.ko`, data: m.bytes })),
    { kind: "file", path: "lib/modules/load-order", data: inputs.modules.map((m) => `${m.name}\n`).join("") },
  ];
  return gzipSync(writeCpioNewc(entries), { level: 9 });
}

/** Reads the host's busybox and checks it is static: the initramfs has no libc for a dynamic one. */
export async function readStaticBusybox(path = "/bin/busybox"): Promise<Buffer> {
  const hint = "apt-get install -y busybox-static";
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new BuildError("missing_tool", `${path} not found`, hint, { cause: err });
  }
  if (bytes.subarray(0, 4).toString("latin1") !== "\x7fELF")
    throw new BuildError("bad_artifact", `${path} is not an ELF binary`, hint);
  if (hasInterpreter(bytes)) throw new BuildError("bad_artifact", `${path} is dynamically linked`, hint);
  return bytes;
}

/** True when a 64-bit ELF file has a PT_INTERP program header, i.e. needs a dynamic loader. */
export function hasInterpreter(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  }
  return false;
}
