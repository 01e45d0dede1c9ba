/** A live capsule on this host: its record, VM and envd client. Owns them until destroyed or detached. */
import type { EnvdClient } from "../envd-client/envd-client.ts";
import type { Vm } from "../vmm/vmm.ts";
import type { CapsuleRecord } from "./capsule-record.ts";

/** Public view of a capsule (what ListCapsules and CreateCapsule report). */
export interface CapsuleView {
  readonly capsuleId: string;
  readonly status: "running" | "paused";
  readonly teamId: string;
  readonly template: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly timeoutSec: number;
  /** "127.0.0.1:<port>" of the guest agent. */
  readonly hostIp: string;
  readonly createdAtMs: number;
  readonly lastActiveAtMs: number;
  readonly metadata: Record<string, string>;
  readonly statusReason: string;
}

/** One capsule. */
export class Capsule {
  readonly record: CapsuleRecord;
  readonly vm: Vm;
  readonly envd: EnvdClient;
  readonly dir: string;
  /** Set while an operation (destroy) owns the capsule exclusively. */
  isDestroying = false;
  /** The lifecycle operation under way ("pausing", "snapshotting"); calls into the guest are refused meanwhile. */
  operation: string | undefined;
  /** Inactivity auto-pause: failures so far and when the next try may start (backoff after a failed pause). */
  autoPauseFailures = 0;
  autoPauseRetryAtMs = 0;

  constructor(record: CapsuleRecord, vm: Vm, envd: EnvdClient, dir: string) {
    this.record = record;
    this.vm = vm;
    this.envd = envd;
    this.dir = dir;
  }

  get id(): string {
    return this.record.capsuleId;
  }

  /** Resets the inactivity clock. */
  touch(nowMs = Date.now()): void {
    this.record.lastActiveAtMs = nowMs;
  }

  /** True when the inactivity timeout passed. */
  isInactive(nowMs: number): boolean {
    return this.record.timeoutSec > 0 && nowMs - this.record.lastActiveAtMs > this.record.timeoutSec * 1000;
  }

  view(): CapsuleView {
    return recordView(this.record);
  }
}

/** The public view of a record (running or paused; a paused capsule has no address). */
export function recordView(r: CapsuleRecord): CapsuleView {
  const isPaused = r.status === "paused";
  return {
    capsuleId: r.capsuleId,
    status: isPaused ? "paused" : "running",
    teamId: r.teamId,
    template: r.template,
    vcpus: r.vcpus,
    memoryMb: r.memoryMb,
    timeoutSec: r.timeoutSec,
    hostIp: isPaused ? "" : `127.0.0.1:${r.hostPort}`,
    createdAtMs: r.createdAtMs,
    lastActiveAtMs: r.lastActiveAtMs,
    metadata: r.metadata,
    statusReason: r.statusReason,
  };
}
