/**
 * The persistent-capsule operations of the manager: pause, resume, snapshot to a team template, delete a team
 * template, pause everything (control plane lost), and the inactivity auto-pause with retry. Each runs under the
 * capsule's lifecycle lock; calls into the guest are refused while one is under way.
 */
import { AgentError, errors } from "../errors.ts";
import { childTeamTemplates, removeTeamTemplate, writeTeamTemplate } from "../snapshots/team-template-files.ts";
import { type TeamTemplateStore, teamTemplateKey } from "../snapshots/team-template-store.ts";
import { type CapsuleView, recordView } from "./capsule.ts";
import type { CloneDeps } from "./clone-factory.ts";
import type { ManagerState } from "./manager-state.ts";
import { type PauseDeps, type PauseTimings, pauseCapsule } from "./pause.ts";
import { type ResumeInput, type ResumeTimings, resumeCapsule } from "./resume.ts";

/** Backoff of auto-pause retries after a failure: 5 s doubling up to 5 min. */
const AUTO_PAUSE_BACKOFF_MS = { first: 5000, max: 300_000 };

/** What a snapshot produced. */
export interface SnapshotResult {
  readonly name: string;
  readonly sizeBytes: number;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly capsule: CapsuleView;
}

/** Dependencies of the operations. */
export interface PersistenceDeps extends CloneDeps, PauseDeps {
  readonly teamTemplates: TeamTemplateStore;
  /** Kills the clone pool of a template key (its clones read files about to go). */
  dropPool(templateKey: string): Promise<void>;
}

/** Creates the operations over the manager's `state`. */
export function createPersistence(deps: PersistenceDeps, state: ManagerState) {
  const { log } = state;

  /** Pauses running capsule `id` (lock held by the caller). */
  async function pauseLocked(id: string, reason: string, timings?: PauseTimings): Promise<CapsuleView> {
    const c = state.running.get(id);
    if (!c || c.isDestroying) {
      if (state.paused.has(id)) throw errors.invalidState(id, "paused", "pause");
      throw errors.capsuleNotFound(id);
    }
    c.operation = "pausing";
    try {
      const record = await pauseCapsule(deps, c, reason, timings);
      state.running.delete(id);
      state.paused.set(id, record);
      state.events?.gone(id);
      return recordView(record);
    } finally {
      c.operation = undefined;
    }
  }

  async function pause(id: string, reason: string, timings?: PauseTimings): Promise<CapsuleView> {
    return state.lock.run(id, () => pauseLocked(id, reason || "user", timings));
  }

  async function resume(id: string, input: ResumeInput, timings?: ResumeTimings): Promise<CapsuleView> {
    return state.lock.run(id, async () => {
      const record = state.paused.get(id);
      if (!record) {
        if (state.running.has(id)) throw errors.invalidState(id, "running", "resume");
        throw errors.capsuleNotFound(id);
      }
      const c = await resumeCapsule(deps, record, input, timings);
      state.paused.delete(id);
      state.running.set(id, c);
      state.events?.up(c);
      return c.view();
    });
  }

  async function snapshot(id: string, teamId: string, name: string, overwrite: boolean): Promise<SnapshotResult> {
    return state.lock.run(id, async () => {
      if (state.running.has(id)) await pauseLocked(id, "snapshot");
      const record = state.paused.get(id);
      if (!record) throw errors.capsuleNotFound(id);
      const key = teamTemplateKey(teamId, name);
      const manifest = await state.lock.run(`team-template:${key}`, async () => {
        if (overwrite) await ensureUnused(teamId, name);
        const m = await writeTeamTemplate(deps.layout, record, teamId, name, overwrite);
        await deps.teamTemplates.forget(teamId, name);
        return m;
      });
      deps.teamTemplates.warm(teamId, name);
      log.info({ capsuleId: id, teamId, name, sizeBytes: manifest.sizeBytes }, "team template created");
      return {
        name,
        sizeBytes: manifest.sizeBytes,
        vcpus: manifest.vcpus,
        memoryMb: manifest.memoryMb,
        capsule: recordView(record),
      };
    });
  }

  /** Refuses while capsules read the template's disk; drops its pool (pooled clones hold no user state). */
  async function ensureUnused(teamId: string, name: string): Promise<void> {
    const key = teamTemplateKey(teamId, name);
    const dependents = [...state.dependentsOfTeamTemplate(key), ...(await childTeamTemplates(deps.layout, key))];
    if (dependents.length > 0) throw errors.templateInUse(`template ${name}`, dependents);
    await deps.teamTemplates.forget(teamId, name);
    await deps.dropPool(`team-${teamId}-${name}`);
  }

  async function deleteSnapshot(teamId: string, name: string): Promise<void> {
    const key = teamTemplateKey(teamId, name);
    await state.lock.run(`team-template:${key}`, async () => {
      await ensureUnused(teamId, name);
      await removeTeamTemplate(deps.layout, teamId, name);
      log.info({ teamId, name }, "team template deleted");
    });
  }

  /** Pauses every running capsule (sequentially: each save wants the disk), recording them as auto-paused. */
  async function pauseAll(reason: string): Promise<void> {
    for (const id of [...state.running.keys()]) {
      try {
        await pause(id, reason);
        state.autoPaused.add(id);
      } catch (err) {
        log.error({ capsuleId: id, reason, err: AgentError.from(err).message }, "pause of capsule failed");
      }
    }
  }

  /** The reaper's hook: pause with reason `timeout`; on failure keep it running and retry later with backoff. */
  async function autoPause(id: string): Promise<void> {
    const c = state.running.get(id);
    if (!c) return;
    try {
      await pause(id, "timeout");
      state.autoPaused.add(id);
    } catch (err) {
      const e = AgentError.from(err);
      if (e.code === "not_found" || e.code === "invalid_state") return;
      c.autoPauseFailures++;
      const waitMs = Math.min(AUTO_PAUSE_BACKOFF_MS.max, AUTO_PAUSE_BACKOFF_MS.first * 2 ** (c.autoPauseFailures - 1));
      c.autoPauseRetryAtMs = Date.now() + waitMs;
      log.error(
        { capsuleId: id, failures: c.autoPauseFailures, retryInMs: waitMs, err: e.message },
        "auto-pause failed",
      );
    }
  }

  return { pause, resume, snapshot, deleteSnapshot, pauseAll, autoPause };
}
