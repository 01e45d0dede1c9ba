/**
 * Chooses the accelerator. `/dev/kvm` existing is not enough: on PVM hosts (vm.md §1) KVM only runs paravirtual
 * guests and a stock kernel hangs in its real-mode setup. So the probe boots the real guest kernel under KVM for a few
 * seconds and accepts KVM only if the kernel prints to the serial console. The verdict is cached per
 * (QEMU binary and version, kernel file) in `/run/wrenn/accel.json`: /run is emptied at every host boot, when KVM
 * itself may have changed, and every agent on the host (a restart, another files root) shares one probe.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { mkdir, open, readFile, realpath, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../log.ts";

/** Inputs of the probe. */
export interface AccelProbeOptions {
  readonly requested: "auto" | "kvm" | "tcg";
  readonly qemuBin: string;
  readonly qemuVersion: string;
  readonly kernelPath: string;
  readonly initrdPath: string | undefined;
  /** Where the verdict is cached. Default `/run/wrenn`. */
  readonly cacheDir?: string;
  readonly log: Logger;
  /** How long the probe guest may take to print. Default 8 s. */
  readonly timeoutMs?: number;
}

/** Resolves "kvm" or "tcg". An explicit request wins without probing. */
export async function chooseAccelerator(o: AccelProbeOptions): Promise<"kvm" | "tcg"> {
  if (o.requested !== "auto") return o.requested;
  if (!(await kvmOpens())) {
    o.log.info("no usable /dev/kvm; using TCG");
    return "tcg";
  }
  const kernel = await stat(o.kernelPath).catch(() => undefined);
  const kernelFile = await realpath(o.kernelPath).catch(() => o.kernelPath);
  const key = `${o.qemuBin}|${o.qemuVersion}|${kernelFile}|${kernel?.size}|${kernel?.mtimeMs}`;
  const cacheDir = o.cacheDir ?? "/run/wrenn";
  const cachePath = join(cacheDir, "accel.json");
  const cached = await readFile(cachePath, "utf8")
    .then((t) => JSON.parse(t) as { key: string; accelerator: "kvm" | "tcg" })
    .catch(() => undefined);
  if (cached?.key === key) return cached.accelerator;
  const booted = kernel ? await kvmBootsKernel(o) : false;
  const accelerator = booted ? "kvm" : "tcg";
  o.log.info(
    { accelerator },
    booted ? "KVM boots a guest kernel" : "KVM cannot boot a stock guest kernel here; using TCG",
  );
  if (kernel) {
    await mkdir(cacheDir, { recursive: true })
      .then(() => writeFile(cachePath, JSON.stringify({ key, accelerator })))
      .catch((err) =>
        o.log.warn({ err, cachePath }, "could not cache the accelerator verdict; the next start probes again"),
      );
  }
  return accelerator;
}

async function kvmOpens(): Promise<boolean> {
  try {
    const fh = await open("/dev/kvm", constants.O_RDWR);
    await fh.close();
    return true;
  } catch {
    return false;
  }
}

/** Boots the kernel under KVM with an early console and watches for the kernel's own first words. */
function kvmBootsKernel(o: AccelProbeOptions): Promise<boolean> {
  const args = [
    "-M",
    "microvm,x-option-roms=off,isa-serial=on,rtc=on",
    "-accel",
    "kvm",
    "-cpu",
    "host",
    "-m",
    "128M",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-serial",
    "stdio",
    "-kernel",
    o.kernelPath,
    ...(o.initrdPath ? ["-initrd", o.initrdPath] : []),
    "-append",
    "console=ttyS0 earlyprintk=ttyS0 loglevel=8 panic=-1",
  ];
  return new Promise((resolve) => {
    const child = spawn(o.qemuBin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), o.timeoutMs ?? 8000);
    child.stdout.on("data", (d: Buffer) => {
      out = (out + d.toString("latin1")).slice(-8192);
      if (/Linux version|Command line:/.test(out)) finish(true);
    });
    child.stderr.resume();
    child.on("error", () => finish(false));
    child.on("exit", () => finish(false));
  });
}
