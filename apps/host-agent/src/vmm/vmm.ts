/**
 * The VM driver interface. The capsule manager and the template builder only speak this; `qemu/` implements it
 * (a `firecracker/` driver fits the same shape later). Pause/resume of a capsule maps onto
 * `saveState` (RAM included) + `restore`.
 */

/** Everything needed to start one VM. Two VMs with equal specs but different host paths/ports are clones. */
export interface VmSpec {
  /** Short name shown in `ps` (`-name`). */
  readonly name: string;
  /** Folder the VM owns: qmp.sock, console.log, qemu.out, qemu.err live here. */
  readonly dir: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly kernelPath: string;
  /** Optional initramfs (the Debian cloud kernel needs one for its virtio modules). */
  readonly initrdPath: string | undefined;
  /** Guest kernel command line, including the accelerator-specific timing arguments. */
  readonly kernelArgs: string;
  /** Root disk (qcow2 overlay). */
  readonly diskPath: string;
  /** File that backs guest RAM: shared while a template boots, privately mapped (copy-on-write) by clones. */
  readonly memoryFile: string;
  readonly memoryShared: boolean;
  /** Loopback port forwarded to `guestPort` (QEMU user networking). */
  readonly hostPort: number;
  readonly guestPort: number;
}

/** Host-side cost of one VM. */
export interface VmStats {
  /** Proportional set size in bytes (/proc/<pid>/smaps_rollup). */
  readonly pssBytes: number;
  readonly rssBytes: number;
  /** user+system CPU time of the VM process so far, in milliseconds. */
  readonly cpuMs: number;
}

/** Options of a save. */
export interface SaveOptions {
  /** Skip RAM in shared memory backends (warm templates: the memory file already holds it). */
  readonly ignoreShared: boolean;
  readonly timeoutMs: number;
}

/** One running VM process. The owner calls `kill()` to end it or `detach()` to leave it running (agent restart). */
export interface Vm {
  readonly pid: number;
  readonly spec: VmSpec;
  /** True while the process exists (and is not a zombie). */
  isAlive(): boolean;
  /** Pauses the vCPUs. */
  pause(): Promise<void>;
  /** Resumes the vCPUs. */
  resume(): Promise<void>;
  /** Stops the VM and writes its device state (and RAM unless ignored) to `statePath`. Leaves it stopped. */
  saveState(statePath: string, options: SaveOptions): Promise<void>;
  /**
   * Stops the VM and writes its device state alone to `devicesPath` and its RAM as a sparse image to `memoryPath`,
   * which a restore with `devicesOnly` maps as its memory file (no RAM streamed either way). Leaves it stopped.
   */
  saveSplit(paths: { readonly devicesPath: string; readonly memoryPath: string }): Promise<void>;
  stats(): Promise<VmStats>;
  /**
   * A loopback port on the host forwarded to TCP `guestPort` in the guest (the port proxy), added on first use and
   * reused for the life of this VM process; a VM restored after a pause starts without it.
   */
  forwardPort(guestPort: number): Promise<number>;
  /** Kills the process (and its helpers) and waits until it is gone. Idempotent. */
  kill(): Promise<void>;
  /** Drops the control connection, leaving the VM running. */
  detach(): void;
}

/** Start options shared by boot and restore. */
export interface StartOptions {
  /** Deadline for the process to come up and answer its control socket. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Options of a restore. */
export interface RestoreOptions extends StartOptions {
  /** The state was saved with x-ignore-shared (RAM lives in the memory file, not in the stream). */
  readonly ignoreShared: boolean;
  /** The state came from `saveSplit`: device state only, RAM already in the spec's memory file. */
  readonly devicesOnly?: boolean;
  /** Start the guest once loaded. Default true. */
  readonly resume?: boolean;
}

/** A VM driver. */
export interface Vmm {
  /** Driver name for metadata ("qemu"). */
  readonly name: string;
  /** "kvm" or "tcg". */
  readonly accelerator: "kvm" | "tcg";
  /** Version string of the VMM binary (part of template cache keys). */
  readonly version: string;
  /** Extra kernel arguments this driver's accelerator needs (TCG timing fixes). */
  readonly kernelArgs: string;
  /** Cold-boots a VM. Resolves once the process runs and is controllable (the guest is still booting). */
  boot(spec: VmSpec, options: StartOptions): Promise<Vm>;
  /**
   * Starts a VM from saved state. Resolves with the guest running, or still stopped when `resume` is false (used to
   * re-save a loaded state in another form without letting the guest run).
   */
  restore(spec: VmSpec, statePath: string, options: RestoreOptions): Promise<Vm>;
  /**
   * Re-attaches to a VM process started by an earlier agent; undefined if it is gone or not ours. `spawnDir` is the
   * folder the process was started in when it has since been renamed (pooled clones are renamed at hand-out).
   */
  adopt(spec: VmSpec, pid: number, options: StartOptions & { readonly spawnDir?: string }): Promise<Vm | undefined>;
}
