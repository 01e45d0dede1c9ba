/**
 * Restores a VM on a freshly picked loopback port. The port is free a moment before QEMU binds it; when another
 * process wins that race QEMU fails with "could not set up host forwarding" and we try another port (3 tries).
 */
import { AgentError } from "../errors.ts";
import { freeLoopbackPort } from "../storage/ports.ts";
import type { RestoreOptions, Vm, Vmm, VmSpec } from "./vmm.ts";

/** `vmm.restore` of `spec` (its hostPort is chosen here) from `statePath`. */
export async function restoreOnFreePort(
  vmm: Vmm,
  spec: Omit<VmSpec, "hostPort">,
  statePath: string,
  options: RestoreOptions,
): Promise<Vm> {
  for (let attempt = 1; ; attempt++) {
    const hostPort = await freeLoopbackPort();
    try {
      return await vmm.restore({ ...spec, hostPort }, statePath, options);
    } catch (err) {
      if (attempt >= 3 || !/host forwarding|hostfwd/i.test(AgentError.from(err).message)) throw err;
    }
  }
}
