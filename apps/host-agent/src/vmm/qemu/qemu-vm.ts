/**
 * One QEMU process and its QMP session: the `Vm` of the qemu driver. Owns the process from spawn (or adoption) to kill.
 */
import { AgentError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { SaveOptions, Vm, VmSpec, VmStats } from "../vmm.ts";
import { copyGuestRam } from "./guest-ram.ts";
import { addHostForward } from "./host-forward.ts";
import { isAlive, killGroup, readCpuMs, readMemory } from "./proc.ts";
import type { QmpClient } from "./qmp-client.ts";

/** How long a kill may take before we report the process as stuck. */
const KILL_TIMEOUT_MS = 10_000;

interface MigrateInfo {
  status?: string;
  "error-desc"?: string;
}

/** A running QEMU VM. */
export class QemuVm implements Vm {
  readonly pid: number;
  readonly spec: VmSpec;
  #qmp: QmpClient | undefined;
  #log: Logger;
  #killed = false;
  /** Forwards added at run time, by guest port (the port proxy); they live as long as this QEMU process. */
  #forwards = new Map<number, Promise<number>>();

  constructor(pid: number, spec: VmSpec, qmp: QmpClient, log: Logger) {
    this.pid = pid;
    this.spec = spec;
    this.#qmp = qmp;
    this.#log = log;
  }

  isAlive(): boolean {
    return !this.#killed && isAlive(this.pid);
  }

  /** The QMP session; throws when the VM was killed or detached. */
  get qmp(): QmpClient {
    if (!this.#qmp || this.#qmp.isClosed)
      throw new AgentError("unavailable", `VM ${this.spec.name} has no QMP session`);
    return this.#qmp;
  }

  async pause(): Promise<void> {
    await this.qmp.execute("stop");
  }

  async resume(): Promise<void> {
    await this.qmp.execute("cont");
  }

  async saveState(statePath: string, options: SaveOptions): Promise<void> {
    const qmp = this.qmp;
    // QEMU 7.2 limits migration to 32 MiB/s by default: far too slow for a local file.
    await qmp.execute("migrate-set-parameters", { "max-bandwidth": 100 * 1024 * 1024 * 1024 });
    await qmp.execute("migrate-set-capabilities", {
      capabilities: [{ capability: "x-ignore-shared", state: options.ignoreShared }],
    });
    await qmp.execute("stop");
    await qmp.execute("migrate", { uri: `exec:cat > ${shellQuote(statePath)}` });
    await waitMigration(qmp, options.timeoutMs, "save");
  }

  async saveSplit(paths: { readonly devicesPath: string; readonly memoryPath: string }): Promise<void> {
    // `stop` drains and flushes the disks (qcow2 metadata included); the device state then needs no migration,
    // and live=false keeps the disks active so a failed pause can simply `cont`.
    await this.qmp.execute("stop");
    await this.qmp.execute("xen-save-devices-state", { filename: paths.devicesPath, live: false });
    await copyGuestRam(this.pid, this.spec.memoryFile, this.spec.memoryMb * 1024 * 1024, paths.memoryPath);
  }

  /** Loads incoming state (the VM was started with -incoming defer) and starts the guest unless `resume` is false. */
  async loadState(statePath: string, ignoreShared: boolean, timeoutMs: number, resume = true): Promise<void> {
    const qmp = this.qmp;
    await qmp.execute("migrate-set-capabilities", {
      capabilities: [{ capability: "x-ignore-shared", state: ignoreShared }],
    });
    await qmp.execute("migrate-incoming", { uri: `exec:cat ${shellQuote(statePath)}` });
    await waitMigration(qmp, timeoutMs, "restore");
    if (resume) await qmp.execute("cont");
  }

  async stats(): Promise<VmStats> {
    const [mem, cpuMs] = await Promise.all([readMemory(this.pid), readCpuMs(this.pid)]);
    return { ...mem, cpuMs };
  }

  forwardPort(guestPort: number): Promise<number> {
    let hostPort = this.#forwards.get(guestPort);
    if (!hostPort) {
      hostPort = (async () => addHostForward(this.qmp, guestPort))();
      this.#forwards.set(guestPort, hostPort);
      // A failed forward is retried by the next request instead of being remembered.
      hostPort.catch(() => this.#forwards.delete(guestPort));
    }
    return hostPort;
  }

  async kill(): Promise<void> {
    this.#qmp?.close();
    this.#qmp = undefined;
    if (this.#killed) return;
    const gone = await killGroup(this.pid, KILL_TIMEOUT_MS);
    this.#killed = true;
    if (!gone)
      throw new AgentError("internal_error", `QEMU pid ${this.pid} survived SIGKILL for ${KILL_TIMEOUT_MS} ms`);
    this.#log.debug({ pid: this.pid }, "vm process killed");
  }

  detach(): void {
    this.#qmp?.close();
    this.#qmp = undefined;
  }
}

async function waitMigration(qmp: QmpClient, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const info = await qmp.execute<MigrateInfo>("query-migrate");
    last = info.status ?? "";
    if (last === "completed") return;
    if (last === "failed" || last === "cancelled") {
      throw new AgentError(
        "internal_error",
        `${what} of VM state ${last}: ${info["error-desc"] ?? "no detail from QEMU"}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new AgentError(
    "timeout",
    `${what} of VM state did not complete within ${timeoutMs} ms (last status "${last}")`,
  );
}

/** Quotes a path for the /bin/sh that QEMU's exec: migration runs. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
