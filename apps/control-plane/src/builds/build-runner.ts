import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentPool } from "../agents/agent-pool.ts";
import type { AuthContext } from "../auth/auth-context.ts";
import type { BuildLogEntry, Database } from "../db/schema.ts";
import { PLATFORM_TEAM_ID } from "../ids.ts";
import type { CapsuleService } from "../services/capsule-service.ts";
import { capsuleOfTeam, targetOf } from "../services/capsule-store.ts";
import type { SnapshotService } from "../services/snapshot-service.ts";
import { teamTemplate } from "../services/template-store.ts";
import { detectArchiveType } from "./archive-type.ts";
import { type BuildRow, dropArchive, finishBuild, loadArchive, updateRunningBuild } from "./build-store.ts";
import { runGuestShell, type ShellResult } from "./guest-shell.ts";
import { parseHealthcheck } from "./healthcheck.ts";
import { waitHealthy } from "./healthcheck-wait.ts";
import { type Instruction, parseRecipe } from "./recipe.ts";
import {
  asBuildUser,
  BUILD_ARCHIVE_PATH,
  type BuildState,
  extractScript,
  initialBuildState,
  POST_BUILD,
  PRE_BUILD,
  planStep,
} from "./step-scripts.ts";

/** Variables a capsule gets at run time, never baked into a template's `default_env` (reference §9). */
export const RUNTIME_ENV = new Set([
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "PWD",
  "OLDPWD",
  "HOSTNAME",
  "TERM",
  "SHLVL",
  "_",
  "WRENN_SANDBOX_ID",
  "WRENN_TEMPLATE_ID",
]);

/** Dependencies of the build runner. */
export interface BuildRunnerDeps {
  db: Kysely<Database>;
  log: Logger;
  agents: AgentPool;
  capsules: Pick<CapsuleService, "create" | "destroy">;
  snapshots: Pick<SnapshotService, "snapshotAsPlatformTemplate">;
  /** Bound of a healthcheck without `--retries`, in ms (default healthcheck-wait.ts HEALTHCHECK_MAX_MS). */
  healthcheckMaxMs?: number;
}

/** A step that ran and failed; its message is the build's `error`. */
class StepFailed extends Error {}

/** The platform team acting for a build: the build capsule is the platform's, with no TTL. */
const buildActor = (id: string): AuthContext => ({ kind: "user", teamId: PLATFORM_TEAM_ID, isAdmin: true, name: id });

/**
 * Runs one claimed build to its end (reference §9): a build capsule from `base_template` on a host the scheduler
 * picks, the archive unpacked to /tmp/build-files, pre-build, recipe and post-build steps with progress written after
 * each, the healthcheck, then a snapshot into the platform template `name` (always a warm snapshot template: the
 * agent has no FlattenRootfs). The capsule is destroyed whatever happens. Aborting `signal` (cancel, lost lease)
 * stops it between or during steps; the row then keeps the status whoever aborted it wrote.
 */
export async function runBuild(deps: BuildRunnerDeps, build: BuildRow, signal: AbortSignal): Promise<void> {
  const { db, capsules } = deps;
  const log = deps.log.child({ buildId: build.id, template: build.name });
  const logs: BuildLogEntry[] = [];
  let capsuleId: string | undefined;
  let snapshotted = false;
  log.info("build started");
  try {
    const capsule = await capsules.create(buildActor(build.id), {
      template: build.base_template,
      vcpus: build.vcpus,
      memory_mb: build.memory_mb,
      timeout_sec: 0,
    });
    capsuleId = capsule.id;
    const c = await capsuleOfTeam(db, PLATFORM_TEAM_ID, capsule.id);
    await updateRunningBuild(db, build.id, { sandbox_id: c.id, host_id: c.host_id });
    signal.throwIfAborted();
    const client = deps.agents.client(targetOf(c));
    const shell = (script: string, timeoutMs: number) => runGuestShell(client, c.id, script, timeoutMs, signal);

    if (build.has_archive) {
      const archive = await loadArchive(db, build.id);
      const type = archive && detectArchiveType(archive);
      if (!archive || !type) throw new StepFailed("archive is missing or not a tar, tar.gz or zip file");
      await client.writeFile(
        { capsuleId: c.id, path: BUILD_ARCHIVE_PATH, content: archive },
        { timeoutMs: 300_000, signal },
      );
      const r = await shell(extractScript(type), 300_000);
      if (r.exit !== 0) throw new StepFailed(`archive extraction failed: ${failureReason(r)}`);
    }

    const phases: Array<[string, Instruction[]]> = [
      ...(build.skip_pre_post ? [] : [["pre-build", parseRecipe(PRE_BUILD)] as [string, Instruction[]]]),
      ["recipe", parseRecipe(build.recipe)],
      ...(build.skip_pre_post ? [] : [["post-build", parseRecipe(POST_BUILD)] as [string, Instruction[]]]),
    ];
    let state = initialBuildState();
    let step = 0;
    for (const [phase, instructions] of phases) {
      for (const [i, ins] of instructions.entries()) {
        signal.throwIfAborted();
        step++;
        // Post-build cleans up as root without changing the template's user.
        const plan = planStep(ins, phase === "post-build" ? { ...state, user: "root" } : state);
        const started = Date.now();
        const r: ShellResult = plan.script
          ? await shell(plan.script, plan.timeoutMs)
          : { stdout: "", stderr: "", exit: 0 };
        const ok = r.exit === 0;
        logs.push({ step, phase, cmd: ins.text, ...r, ok, elapsed_ms: Date.now() - started });
        if (!(await updateRunningBuild(db, build.id, { current_step: step, logs }))) {
          throw new Error("build is no longer running");
        }
        if (!ok) throw new StepFailed(`${phase} step ${i + 1} failed: ${failureReason(r)}`);
        if (phase !== "post-build") state = plan.next;
      }
    }

    if (build.healthcheck) {
      const hc = parseHealthcheck(build.healthcheck);
      await waitHealthy(hc, (ms) => shell(asBuildUser(state, hc.cmd), ms), signal, deps.healthcheckMaxMs).catch(
        (err: Error) => {
          if (signal.aborted) throw err;
          throw new StepFailed(err.message);
        },
      );
    }
    signal.throwIfAborted();
    const defaults = templateDefaults(state);
    await deps.snapshots.snapshotAsPlatformTemplate(c.id, build.name, { actor: "system", ...defaults });
    snapshotted = true;
    const tpl = await teamTemplate(db, PLATFORM_TEAM_ID, build.name);
    if (!tpl) throw new Error(`template ${build.name} is missing right after its snapshot`);
    const done = await finishBuild(db, build.id, {
      status: "success",
      template_id: tpl.id,
      default_user: defaults.defaultUser,
      default_env: defaults.defaultEnv,
    });
    log.info({ stored: done }, "build succeeded");
  } catch (err) {
    if (signal.aborted) {
      log.info({ reason: String(signal.reason?.message ?? signal.reason) }, "build stopped");
    } else {
      const message = err instanceof StepFailed ? err.message : `build error: ${errorText(err)}`;
      log.warn({ err, message }, "build failed");
      await finishBuild(db, build.id, { status: "failed", error: message }).catch((e) =>
        log.error({ err: e }, "could not record build failure"),
      );
    }
  } finally {
    if (capsuleId && !snapshotted) {
      await capsules
        .destroy("system", PLATFORM_TEAM_ID, capsuleId, "build_finished")
        .catch((err) => log.warn({ err, capsuleId }, "build capsule not destroyed"));
    }
    await dropArchive(db, build.id).catch((err) => log.warn({ err }, "build archive not dropped"));
  }
}

/** The template's `default_user` / `default_env`: the final USER and ENV, minus runtime variables. */
export function templateDefaults(state: BuildState): { defaultUser: string; defaultEnv: Record<string, string> } {
  const env = Object.fromEntries(Object.entries(state.env).filter(([k]) => !RUNTIME_ENV.has(k)));
  return { defaultUser: state.user, defaultEnv: env };
}

/** A failed step in the error text: its stderr (last 1000 characters), else its exit code. */
function failureReason(r: ShellResult): string {
  const stderr = r.stderr.trim();
  if (stderr) return stderr.length > 1000 ? `…${stderr.slice(-1000)}` : stderr;
  return `exit code ${r.exit}`;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
