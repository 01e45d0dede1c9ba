/** Host facts the qemu driver needs: the QEMU version and the host TSC frequency. */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { errors } from "../../errors.ts";

const run = promisify(execFile);

/** First line of `<bin> --version`; fails clearly when the binary is missing. */
export async function qemuVersion(bin: string): Promise<string> {
  try {
    const { stdout } = await run(bin, ["--version"], { timeout: 10_000 });
    return stdout.split("\n")[0]?.trim() ?? "unknown";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw errors.vmStartFailed(
      "host check",
      code === "ENOENT" ? `binary "${bin}" not found (set AGENT_QEMU_BIN)` : `"${bin} --version" failed`,
      err,
    );
  }
}

/**
 * The host TSC frequency in kHz. Under TCG the guest TSC runs at the host's rate, and telling the guest kernel
 * (tsc_early_khz) avoids its PIT calibration, which hangs on a loaded host (vm.md §2).
 * Sources, best first: the kernel's "tsc: Detected … MHz" / "Refined TSC" in dmesg, then /proc/cpuinfo.
 */
export async function hostTscKhz(): Promise<number> {
  try {
    const { stdout } = await run("dmesg", [], { timeout: 5000, maxBuffer: 16 * 1024 * 1024 });
    const refined = /Refined TSC clocksource calibration: (\d+)\.(\d+) MHz/.exec(stdout);
    const detected = /tsc: Detected (\d+)\.(\d+) MHz/.exec(stdout);
    const m = refined ?? detected;
    if (m) return Number(m[1]) * 1000 + Number((m[2] ?? "0").padEnd(3, "0").slice(0, 3));
  } catch {
    // dmesg may be restricted; fall back to cpuinfo.
  }
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8");
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  if (!mhz) throw new Error("cannot determine the host TSC frequency; set AGENT_TSC_KHZ");
  return Math.round(Number(mhz[1]) * 1000);
}
