/**
 * Templates made from capsules (POST /v1/snapshots), on disk under team-templates/<team>/<name>/: the paused
 * capsule's state and a frozen copy of its disk overlay, plus snapshot.json. A capsule paused in the split form
 * (RAM image + device state) is already what clones need: its files are linked in as `memory` + `cow-state.bin`. Written into a temp folder and renamed
 * into place, so a template is either complete or absent; `overwrite` swaps the folder the same way.
 */
import { randomBytes } from "node:crypto";
import {
  chmod,
  constants,
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CapsuleRecord } from "../capsules/capsule-record.ts";
import { errors } from "../errors.ts";
import { type HostLayout, SAFE_NAME, type TeamTemplatePaths } from "../storage/layout.ts";

/** snapshot.json (mode 0600: it holds the source capsule's envd token, which the saved guest still expects). */
export interface TeamTemplateManifest {
  readonly version: 1;
  readonly teamId: string;
  readonly name: string;
  /** Base template of the source capsule (its disk chain and command line come from it). */
  readonly template: string;
  readonly templateKey: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly kernelArgs: string;
  readonly accessToken: string;
  readonly sourceCapsuleId: string;
  readonly createdAtMs: number;
  /** Disk space of the state, RAM image and disk.qcow2 at creation. */
  readonly sizeBytes: number;
  /** "<team>/<name>" of the team template the source capsule was created from (this disk is layered on its disk). */
  readonly parentTeamTemplate?: string;
  /** True once memory + cow-state.bin exist (clones map RAM copy-on-write) and state.bin is gone. */
  readonly isCow: boolean;
  /** cow-state.bin is device state only (made from a split pause, see `Vm.saveSplit`), not a migration stream. */
  readonly devicesOnly?: boolean;
  readonly metadata: Record<string, string>;
}

/** Checks that team id and name are safe folder names. */
export function checkTeamTemplateName(teamId: string, name: string): void {
  if (!SAFE_NAME.test(teamId)) throw errors.invalidArgument(`team id "${teamId}" is not valid`);
  if (!SAFE_NAME.test(name))
    throw errors.invalidArgument(`template name "${name}" must be 1-63 letters, digits, . _ -`);
}

/** The manifest, or undefined when the template does not exist (or is incomplete). */
export async function readManifest(paths: TeamTemplatePaths): Promise<TeamTemplateManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(paths.manifest, "utf8")) as TeamTemplateManifest;
    return m.version === 1 ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the manifest atomically. */
export async function writeManifest(paths: TeamTemplatePaths, m: TeamTemplateManifest): Promise<void> {
  const tmp = `${paths.manifest}.tmp`;
  await writeFile(tmp, JSON.stringify(m, null, 2), { mode: 0o600 });
  await rename(tmp, paths.manifest);
}

/**
 * Makes team template `name` from the paused capsule `record` (its files in snapshots/<id>/ stay untouched).
 * The state (and RAM image) are hard-linked (a pause always writes new files, so links never change under us); the disk
 * overlay is copied, because resuming the capsule writes to it.
 */
export async function writeTeamTemplate(
  layout: HostLayout,
  record: CapsuleRecord,
  teamId: string,
  name: string,
  overwrite: boolean,
): Promise<TeamTemplateManifest> {
  const paths = layout.teamTemplate(teamId, name);
  if (!overwrite && (await readManifest(paths))) throw errors.snapshotExists(teamId, name);
  const snap = layout.snapshot(record.capsuleId);
  const tmpDir = join(dirname(paths.dir), `.tmp-${name}-${randomBytes(4).toString("hex")}`);
  const tmp = { ...layout.teamTemplate(teamId, name), dir: tmpDir };
  const inTmp = (p: string) => join(tmpDir, p.slice(paths.dir.length + 1));
  await mkdir(tmpDir, { recursive: true });
  try {
    const split = await stat(snap.memory).then(
      () => true,
      () => false,
    );
    const linkOrCopy = (from: string, to: string) => link(from, to).catch(() => copyFile(from, to));
    if (split) {
      await linkOrCopy(snap.memory, inTmp(paths.memory));
      await linkOrCopy(snap.state, inTmp(paths.cowState));
    } else {
      await linkOrCopy(snap.state, inTmp(paths.state));
    }
    await copyFile(snap.disk, inTmp(paths.disk), constants.COPYFILE_FICLONE);
    await chmod(inTmp(paths.disk), 0o444);
    // The RAM image is sparse: count what it occupies, not its length.
    const sizes = await Promise.all([
      stat(inTmp(split ? paths.cowState : paths.state)).then((s) => s.size),
      stat(inTmp(paths.disk)).then((s) => s.size),
      split ? stat(inTmp(paths.memory)).then((s) => s.blocks * 512) : 0,
    ]);
    const manifest: TeamTemplateManifest = {
      version: 1,
      teamId,
      name,
      template: record.template,
      templateKey: record.templateKey,
      vcpus: record.vcpus,
      memoryMb: record.memoryMb,
      kernelArgs: record.kernelArgs,
      accessToken: record.accessToken,
      sourceCapsuleId: record.capsuleId,
      createdAtMs: Date.now(),
      sizeBytes: sizes[0] + sizes[1] + sizes[2],
      isCow: split,
      ...(split ? { devicesOnly: true } : {}),
      metadata: record.metadata,
      ...(record.teamTemplate ? { parentTeamTemplate: record.teamTemplate } : {}),
    };
    await writeManifest({ ...tmp, manifest: inTmp(paths.manifest) }, manifest);
    // Swap into place: the old folder (overwrite) leaves by rename first, so readers never see a half template.
    const old = `${tmpDir}-old`;
    const hadOld = await rename(paths.dir, old).then(
      () => true,
      () => false,
    );
    await rename(tmpDir, paths.dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
    return manifest;
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

/** Removes team template `name`; not_found when it does not exist. */
export async function removeTeamTemplate(layout: HostLayout, teamId: string, name: string): Promise<void> {
  const paths = layout.teamTemplate(teamId, name);
  if (!(await readManifest(paths))) throw errors.snapshotNotFound(teamId, name);
  const trash = join(dirname(paths.dir), `.trash-${name}-${randomBytes(4).toString("hex")}`);
  await rename(paths.dir, trash);
  await rm(trash, { recursive: true, force: true });
}

/** Team templates made from capsules of team template `key` ("<team>/<name>"): their disks are layered on its disk. */
export async function childTeamTemplates(layout: HostLayout, key: string): Promise<string[]> {
  const out: string[] = [];
  for (const team of await readdir(layout.teamTemplatesDir).catch(() => [] as string[])) {
    for (const name of await readdir(join(layout.teamTemplatesDir, team)).catch(() => [] as string[])) {
      const m = await readManifest(layout.teamTemplate(team, name));
      if (m?.parentTeamTemplate === key) out.push(`template ${team}/${name}`);
    }
  }
  return out;
}
