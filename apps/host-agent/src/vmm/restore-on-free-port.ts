/**
 * Starts (restores or boots) a VM on a freshly picked loopback port. The port is free a moment before QEMU binds it; when another
 * process wins that race QEMU fails with "could not set up host forwarding" and we try another port (3 tries).
 */
import { AgentError } from "../errors.ts";
import { freeLoopbackPort } from "../storage/ports.ts";
import type { RestoreOptions, StartOptions, Vm, Vmm, VmSpec } from "./vmm.ts";

/** `vmm.restore` of `spec` (its hostPort is chosen here) from `statePath`. */
export function restoreOnFreePort(
  vmm: Vmm,
  spec: Omit<VmSpec, "hostPort">,
  statePath: string,
  options: RestoreOptions,
): Promise<Vm> {
  return onFreePort((hostPort) => vmm.restore({ ...spec, hostPort }, statePath, options));
}

/** `vmm.boot` of `spec` on a freshly picked port, with the same retries. */
export function bootOnFreePort(vmm: Vmm, spec: Omit<VmSpec, "hostPort">, options: StartOptions): Promise<Vm> {
  return onFreePort((hostPort) => vmm.boot({ ...spec, hostPort }, options));
}

async function onFreePort(start: (hostPort: number) => Promise<Vm>): Promise<Vm> {
  for (let attempt = 1; ; attempt++) {
    const hostPort = await freeLoopbackPort();
    try {
      return await start(hostPort);
    } catch (err) {
      if (attempt >= 3 || !/host forwarding|hostfwd/i.test(AgentError.from(err).message)) throw err;
    }
  }
}
