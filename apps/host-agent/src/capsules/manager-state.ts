/**
 * What the capsule manager and its persistence operations share: the running capsules, the paused records, the
 * per-capsule lifecycle lock and the ids the agent paused on its own since the control plane last asked.
 */
import type { Logger } from "../log.ts";
import type { Capsule } from "./capsule.ts";
import type { CapsuleRecord } from "./capsule-record.ts";
import { KeyedLock } from "./keyed-lock.ts";

/** Lifecycle hooks of the manager (metrics sampling). */
export interface CapsuleEvents {
  up(capsule: Capsule): void;
  gone(capsuleId: string): void;
}

/** Shared mutable state of one manager. */
export class ManagerState {
  readonly running = new Map<string, Capsule>();
  readonly paused = new Map<string, CapsuleRecord>();
  readonly creating = new Set<string>();
  readonly lock = new KeyedLock();
  /** Capsules paused by the reaper or on control-plane loss since the last ListCapsules. */
  readonly autoPaused = new Set<string>();
  readonly log: Logger;
  readonly events: CapsuleEvents | undefined;

  constructor(log: Logger, events: CapsuleEvents | undefined) {
    this.log = log;
    this.events = events;
  }

  /** Capsule ids (running or paused) whose disk reads team template `key` ("<team>/<name>"). */
  dependentsOfTeamTemplate(key: string): string[] {
    const out: string[] = [];
    for (const c of this.running.values()) if (!c.isDestroying && c.record.teamTemplate === key) out.push(c.id);
    for (const r of this.paused.values()) if (r.teamTemplate === key) out.push(r.capsuleId);
    return out;
  }

  /** Hands back and clears the auto-paused ids. */
  takeAutoPaused(): string[] {
    const ids = [...this.autoPaused];
    this.autoPaused.clear();
    return ids;
  }
}
