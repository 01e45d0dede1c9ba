/**
 * The qemu `Vmm`: microvm machine, accelerator chosen by the probe (accel-probe.ts), flags from cmdline.ts.
 */
import { AgentError, errors } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { StartOptions, Vm, Vmm, VmSpec } from "../vmm.ts";
import { buildQemuArgs, escapeOptionValue, tcgKernelArgs, vmFiles } from "./cmdline.ts";
import { isAlive, killGroup, readCmdline } from "./proc.ts";
import { QemuVm } from "./qemu-vm.ts";
import { QmpClient } from "./qmp-client.ts";
import { spawnQemu } from "./spawn.ts";

/** What the qemu driver needs to know about the host. */
export interface QemuVmmOptions {
  readonly bin: string;
  readonly accelerator: "kvm" | "tcg";
  /** Host TSC kHz, used for the guest's early TSC calibration under TCG. */
  readonly tscKhz: number;
  /** `qemu-system-x86_64 --version` first line. */
  readonly version: string;
  readonly log: Logger;
}

/** Creates the qemu driver. */
export function createQemuVmm(options: QemuVmmOptions): Vmm {
  const { bin, accelerator, log } = options;
  const vmLog = (spec: VmSpec) => log.child({ vm: spec.name });

  return {
    name: "qemu",
    accelerator,
    version: options.version,
    kernelArgs: accelerator === "tcg" ? tcgKernelArgs(options.tscKhz) : "",

    async boot(spec: VmSpec, opts: StartOptions): Promise<Vm> {
      const args = buildQemuArgs(spec, { accelerator, incoming: false });
      const { pid, qmp } = await spawnQemu(bin, args, spec, vmLog(spec), opts.timeoutMs, opts.signal);
      return new QemuVm(pid, spec, qmp, vmLog(spec));
    },

    async restore(spec, statePath, opts): Promise<Vm> {
      const args = buildQemuArgs(spec, { accelerator, incoming: true, devicesOnly: opts.devicesOnly });
      const started = Date.now();
      const { pid, qmp } = await spawnQemu(bin, args, spec, vmLog(spec), opts.timeoutMs, opts.signal);
      const vm = new QemuVm(pid, spec, qmp, vmLog(spec));
      try {
        await vm.loadState(
          statePath,
          opts.ignoreShared,
          Math.max(1000, opts.timeoutMs - (Date.now() - started)),
          opts.resume ?? true,
        );
      } catch (err) {
        await vm.kill().catch(() => {});
        throw errors.vmStartFailed(
          `VM ${spec.name}`,
          `restore from ${statePath}: ${AgentError.from(err).message}`,
          err,
        );
      }
      return vm;
    },

    async adopt(spec, pid, opts): Promise<Vm | undefined> {
      if (!isAlive(pid)) return undefined;
      const argv = await readCmdline(pid);
      const qmpArg = `unix:${escapeOptionValue(vmFiles(opts.spawnDir ?? spec.dir).qmpSocket)},server=on,wait=off`;
      // The pid may have been reused by an unrelated process: only adopt the QEMU that owns this VM's QMP socket.
      if (!argv?.includes(qmpArg)) return undefined;
      try {
        const qmp = await QmpClient.connect(vmFiles(spec.dir).qmpSocket, opts.timeoutMs);
        return new QemuVm(pid, spec, qmp, vmLog(spec));
      } catch (err) {
        vmLog(spec).warn(
          { pid, err: AgentError.from(err).message },
          "vm process alive but QMP unreachable; killing it",
        );
        await killGroup(pid, 5000);
        return undefined;
      }
    },
  };
}
