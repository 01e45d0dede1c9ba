/**
 * The capsules of this host: create (a warm-template clone, from the pool when one is ready — base templates and
 * team templates alike), destroy, look up, re-adopt after an agent restart, pause/resume/snapshot (persistence.ts)
 * and the inactivity reaper. RPC handlers call this; it decides.
 */
import { rename, rm } from "node:fs/promises";
import { AgentError, errors } from "../errors.ts";
import { createTeamTemplateStore, teamTemplateKey } from "../snapshots/team-template-store.ts";
import { SAFE_NAME } from "../storage/layout.ts";
import { templateKey } from "../templates/template-key.ts";
import type { ReadyTemplate, TemplateStore } from "../templates/template-store.ts";
import { adoptCapsules } from "./adopt.ts";
import { Capsule, type CapsuleView, recordView } from "./capsule.ts";
import { type CapsuleRecord, writeRecord } from "./capsule-record.ts";
import { type Clone, type CloneDeps, discardClone, restoreClone } from "./clone-factory.ts";
import { ClonePool } from "./clone-pool.ts";
import { bindClone } from "./identity.ts";
import { type CapsuleEvents, ManagerState } from "./manager-state.ts";
import type { PauseTimings } from "./pause.ts";
import { createPersistence, type SnapshotResult } from "./persistence.ts";
import { createReaper, type InactivityHook } from "./reaper.ts";
import type { ResumeInput, ResumeTimings } from "./resume.ts";

/** What a create asks for (zero values mean defaults). */
export interface CreateCapsuleInput {
  readonly capsuleId: string;
  readonly teamId: string;
  readonly template: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly timeoutSec: number;
  readonly diskSizeMb: number;
  readonly defaultUser: string;
  readonly defaultEnv: Record<string, string>;
}

/** Dependencies of the manager. */
export interface CapsuleManagerDeps extends CloneDeps {
  readonly templates: TemplateStore;
  readonly poolSize: number;
  readonly defaultMemoryMb: number;
  /** agent_version, kernel_version, vmm, accelerator: copied into every capsule's metadata. */
  readonly hostMetadata: Record<string, string>;
  /** Called when a capsule's inactivity timeout passes; default: auto-pause with reason `timeout`. */
  readonly onInactive?: InactivityHook;
  /** Told when a capsule's VM comes up (create, resume, re-adopt) and goes away (pause, destroy, death). */
  readonly events?: CapsuleEvents;
  /** Test-only fault injection (config `AGENT_FAILPOINTS`). */
  readonly failpoints?: ReadonlySet<string>;
}

/** The manager's surface. */
export interface CapsuleManager {
  /** Re-adopts capsules left running by an earlier agent and cleans up what is dead. */
  start(): Promise<void>;
  create(input: CreateCapsuleInput): Promise<CapsuleView>;
  /** Destroys a running or paused capsule (waits for a lifecycle operation under way). */
  destroy(capsuleId: string): Promise<void>;
  /** The running capsule; rejects with not_found / invalid_state. Resets its inactivity clock when `touch`. */
  get(capsuleId: string, touch?: boolean): Capsule;
  /** Running and paused capsules. */
  list(): CapsuleView[];
  /** Pauses a running capsule to disk; `reason` is recorded ("user", "timeout", "host_lost", "snapshot"). */
  pause(capsuleId: string, reason: string, timings?: PauseTimings): Promise<CapsuleView>;
  /** Resumes a paused capsule. */
  resume(capsuleId: string, input: ResumeInput, timings?: ResumeTimings): Promise<CapsuleView>;
  /** Pauses every running capsule (the control plane is unreachable). */
  pauseAll(reason: string): Promise<void>;
  /** Capsules the agent paused on its own since the last call (cleared when read). */
  takeAutoPaused(): string[];
  /** Makes team template `name` from a running or paused capsule (which stays paused). */
  snapshot(capsuleId: string, teamId: string, name: string, overwrite: boolean): Promise<SnapshotResult>;
  deleteSnapshot(teamId: string, name: string): Promise<void>;
  /** Builds the template of `shape` and fills its pool (used at start for the configured templates). */
  prewarm(template: string, vcpus?: number, memoryMb?: number): Promise<void>;
  /** Pool figures per template key (for the benchmark). */
  poolStats(): Record<string, { ready: number; made: number; avgMakeMs: number }>;
  /** Waits until every pool is full (or gave up); for tests and benchmarks. */
  poolsIdle(): Promise<void>;
  /** Stops the reaper and pools; leaves capsules running for the next agent (`destroyAll` for Terminate). */
  shutdown(options: { destroyAll: boolean }): Promise<void>;
}

/** Creates the manager. */
export function createCapsuleManager(deps: CapsuleManagerDeps): CapsuleManager {
  const log = deps.log.child({ component: "capsules" });
  const state = new ManagerState(log, deps.events);
  const capsules = state.running;
  const creating = state.creating;
  const pools = new Map<string, ClonePool>();
  const teamTemplates = createTeamTemplateStore(deps);
  const persistence = createPersistence(
    {
      ...deps,
      log,
      failpoints: deps.failpoints ?? new Set(),
      teamTemplates,
      dropPool: async (key) => {
        const pool = pools.get(key);
        pools.delete(key);
        await pool?.close();
      },
    },
    state,
  );

  /** The pool of `template`, made on first use; `fill` starts filling it at once (a create fills it when done). */
  const poolFor = (template: ReadyTemplate, fill = true): ClonePool | undefined => {
    if (deps.poolSize === 0) return undefined;
    let pool = pools.get(template.meta.key);
    if (!pool) {
      pool = new ClonePool(template, {
        // Team templates are many and each pooled clone holds memory: one ready clone each.
        size: template.accessToken ? 1 : deps.poolSize,
        restore: (t, id) => restoreClone(deps, t, id, true),
        record: (id, clone) => writeRecord(deps.layout.sandbox(id).record, pooledRecord(id, template, clone)),
        dirOf: (id) => deps.layout.sandbox(id).dir,
        log,
      });
      pools.set(template.meta.key, pool);
      if (fill) pool.refill();
    }
    return pool;
  };

  const reaper = createReaper({
    capsules: () => [...capsules.values()],
    onInactive: deps.onInactive ?? ((c) => persistence.autoPause(c.id)),
    onDead: async (c) => {
      log.error({ capsuleId: c.id, pid: c.vm.pid }, "capsule VM exited unexpectedly; removing it");
      await removeCapsule(c);
    },
    log,
  });

  async function removeCapsule(c: Capsule): Promise<void> {
    c.isDestroying = true;
    c.envd.close();
    try {
      await c.vm.kill();
    } finally {
      capsules.delete(c.id);
      deps.events?.gone(c.id);
      await rm(c.dir, { recursive: true, force: true });
      await rm(deps.layout.snapshot(c.id).dir, { recursive: true, force: true });
    }
  }

  async function removePaused(id: string): Promise<void> {
    state.paused.delete(id);
    await rm(deps.layout.snapshot(id).dir, { recursive: true, force: true });
    await rm(deps.layout.sandbox(id).dir, { recursive: true, force: true });
  }

  async function create(input: CreateCapsuleInput): Promise<CapsuleView> {
    const id = input.capsuleId;
    if (!SAFE_NAME.test(id)) throw errors.invalidArgument(`capsule id "${id}" must be 1-63 letters, digits, . _ -`);
    if (capsules.has(id) || state.paused.has(id) || creating.has(id)) throw errors.capsuleExists(id);
    const name = input.template || "minimal";
    // A team template (made from a capsule) of the caller's team wins over a base image of the same name.
    const team = input.teamId && SAFE_NAME.test(name) ? await teamTemplates.resolve(input.teamId, name) : undefined;
    const shape = team
      ? team.meta.shape
      : { template: name, vcpus: input.vcpus || 1, memoryMb: input.memoryMb || deps.defaultMemoryMb };
    if (shape.vcpus > 16) throw errors.invalidArgument(`vcpus ${shape.vcpus} is more than this host offers (max 16)`);
    if (shape.memoryMb < 128 || shape.memoryMb > 16384) {
      throw errors.invalidArgument(`memory_mb ${shape.memoryMb} must be between 128 and 16384`);
    }
    creating.add(id);
    const started = Date.now();
    const dir = deps.layout.sandbox(id).dir;
    let clone: Clone | undefined;
    let pool: ClonePool | undefined;
    try {
      const template = team ?? (await deps.templates.ensure(shape));
      pool = poolFor(template, false);
      const pooled = pool?.take();
      let spawnDir = dir;
      if (pooled) {
        await rename(pooled.dir, dir);
        clone = pooled.clone;
        spawnDir = pooled.dir;
      } else {
        clone = await restoreClone(deps, template, id, false);
      }
      const identity = await bindClone(clone, { envVars: input.defaultEnv, defaultUser: input.defaultUser }, 10_000);
      const now = Date.now();
      const record: CapsuleRecord = {
        version: 1,
        capsuleId: id,
        teamId: input.teamId,
        template: name,
        templateKey: templateKey(shape),
        ...(team ? { teamTemplate: teamTemplateKey(input.teamId, name), memoryFile: template.paths.memory } : {}),
        vcpus: shape.vcpus,
        memoryMb: shape.memoryMb,
        timeoutSec: input.timeoutSec,
        diskSizeMb: input.diskSizeMb,
        defaultUser: input.defaultUser,
        status: "running",
        statusReason: "user",
        pid: clone.vm.pid,
        spawnDir,
        hostPort: clone.hostPort,
        kernelArgs: template.meta.kernelArgs,
        accessToken: identity.accessToken,
        createdAtMs: now,
        lastActiveAtMs: now,
        metadata: { ...deps.hostMetadata, envd_version: clone.envdVersion },
      };
      await writeRecord(deps.layout.sandbox(id).record, record);
      const capsule = new Capsule(record, clone.vm, clone.envd, dir);
      capsules.set(id, capsule);
      deps.events?.up(capsule);
      log.info(
        { capsuleId: id, template: name, fromSnapshot: Boolean(team), pooled: Boolean(pooled), ms: now - started },
        "capsule created",
      );
      return capsule.view();
    } catch (err) {
      if (clone) await discardClone(clone, dir);
      else await rm(dir, { recursive: true, force: true });
      const e = AgentError.from(err);
      log.warn({ capsuleId: id, code: e.code, err: e.message }, "capsule create failed");
      throw e;
    } finally {
      creating.delete(id);
      pool?.refill();
    }
  }

  return {
    async start() {
      const adopted = await adoptCapsules(deps, log);
      for (const c of adopted.running) {
        capsules.set(c.id, c);
        deps.events?.up(c);
      }
      for (const r of adopted.paused) state.paused.set(r.capsuleId, r);
      reaper.start();
    },
    create,
    async destroy(capsuleId) {
      await state.lock.run(capsuleId, async () => {
        const c = capsules.get(capsuleId);
        if (c && !c.isDestroying) await removeCapsule(c);
        else if (state.paused.has(capsuleId)) await removePaused(capsuleId);
        else throw errors.capsuleNotFound(capsuleId);
      });
      log.info({ capsuleId }, "capsule destroyed");
    },
    get(capsuleId, touch = false) {
      const c = capsules.get(capsuleId);
      if (!c || c.isDestroying) {
        if (state.paused.has(capsuleId)) throw errors.invalidState(capsuleId, "paused", "use");
        throw errors.capsuleNotFound(capsuleId);
      }
      if (c.operation) throw errors.invalidState(capsuleId, c.operation, "use");
      if (c.record.status !== "running") throw errors.invalidState(capsuleId, c.record.status, "use");
      if (touch) c.touch();
      return c;
    },
    list: () => [
      ...[...capsules.values()].filter((c) => !c.isDestroying).map((c) => c.view()),
      ...[...state.paused.values()].map(recordView),
    ],
    pause: persistence.pause,
    resume: persistence.resume,
    pauseAll: persistence.pauseAll,
    takeAutoPaused: () => state.takeAutoPaused(),
    snapshot: persistence.snapshot,
    deleteSnapshot: persistence.deleteSnapshot,
    async prewarm(template, vcpus = 1, memoryMb = deps.defaultMemoryMb) {
      const ready = await deps.templates.ensure({ template, vcpus, memoryMb });
      poolFor(ready);
    },
    poolStats() {
      const out: Record<string, { ready: number; made: number; avgMakeMs: number }> = {};
      for (const [key, p] of pools) {
        out[key] = { ready: p.readyCount, made: p.made, avgMakeMs: p.made ? Math.round(p.makeMs / p.made) : 0 };
      }
      return out;
    },
    async poolsIdle() {
      await Promise.all([...pools.values()].map((p) => p.idle()));
    },
    async shutdown({ destroyAll }) {
      reaper.stop();
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
      if (destroyAll) {
        await Promise.all([...capsules.values()].map((c) => removeCapsule(c).catch(() => undefined)));
        await Promise.all([...state.paused.keys()].map((id) => removePaused(id).catch(() => undefined)));
      } else {
        for (const c of capsules.values()) {
          c.envd.close();
          c.vm.detach();
        }
        capsules.clear();
        state.paused.clear();
      }
    },
  };
}

function pooledRecord(id: string, template: ReadyTemplate, clone: Clone): CapsuleRecord {
  const now = Date.now();
  const shape = template.meta.shape;
  return {
    version: 1,
    capsuleId: id,
    teamId: "",
    template: shape.template,
    templateKey: template.meta.key,
    vcpus: shape.vcpus,
    memoryMb: shape.memoryMb,
    timeoutSec: 0,
    diskSizeMb: 0,
    defaultUser: "",
    status: "pooled",
    statusReason: "pool",
    pid: clone.vm.pid,
    spawnDir: clone.spawnDir,
    hostPort: clone.hostPort,
    kernelArgs: template.meta.kernelArgs,
    accessToken: "",
    createdAtMs: now,
    lastActiveAtMs: now,
    metadata: {},
  };
}
