import { accessSync, constants, type Stats, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { EnvdError, errors } from "../errors.ts";
import type { EnvdState } from "../state.ts";
import type { UserIdentity } from "../users.ts";
import type { SpawnSpec } from "./backend.ts";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What a Start request asks for, before resolution. */
export interface StartInput {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd: string | undefined;
  stdin: boolean;
}

/** Expands `~` and resolves a relative path against the user's home. */
export function resolveUserPath(path: string, user: UserIdentity): string {
  if (path === "~") return user.home;
  if (path.startsWith("~/")) return join(user.home, path.slice(2));
  return isAbsolute(path) ? normalAbsolute(path) : resolve(user.home, path);
}

/**
 * `resolve(path)` of an absolute path, without its work when there is nothing to normalize (no `.` or `..`
 * segment, no `//`, no trailing `/`): path.resolve was ~2% of envd's CPU per command under the interpreter.
 */
function normalAbsolute(path: string): string {
  return path === "/" || !/\/\.{0,2}(\/|$)|\/$/.test(path) ? path : resolve(path);
}

/**
 * Turns a Start request into an exact spawn: env = defaults from /init + HOME/USER/LOGNAME/PATH + the
 * request's envs; cwd resolved against the home; a command without a slash looked up on PATH, so a missing binary
 * is a clear not_found instead of a process that dies at exec. Whether the cwd is a directory and a command with a
 * slash can run is `checkSpawnable`'s question, for the backends that cannot tell (see there).
 *
 * The stat/access calls are synchronous on purpose: each is a few microseconds of local metadata, while an async
 * call is a round trip through libuv's thread pool, which under TCG costs milliseconds (a Start did ~7 of them).
 */
export async function resolveSpawnSpec(input: StartInput, user: UserIdentity, state: EnvdState): Promise<SpawnSpec> {
  if (!input.cmd) throw errors.invalidArgument("process.cmd is required");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? DEFAULT_PATH,
    ...Object.fromEntries(state.envVars),
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    ...input.envs,
  };
  const cwd = resolveUserPath(input.cwd || state.defaultWorkdir || user.home, user);
  const file = lookPath(input.cmd, env.PATH ?? DEFAULT_PATH, cwd);
  return {
    cmd: input.cmd,
    file,
    args: input.args,
    env,
    cwd,
    uid: user.uid,
    gid: user.gid,
    stdin: input.stdin,
  };
}

/**
 * Refuses a spawn whose cwd is not a directory or whose executable cannot run, with the error the caller should
 * see. The backends that fork with libuv or node-pty call it first: their child's failed chdir or exec would be a
 * process that ends at once, not a failed start. wrenn-spawner reports those failures itself, with the same errors
 * (`spawner-client.ts`), so its starts skip the three system calls and their JavaScript.
 */
export function checkSpawnable(spec: SpawnSpec): void {
  let info: Stats;
  try {
    info = statSync(spec.cwd);
  } catch (err) {
    throw EnvdError.from(err, `working directory ${spec.cwd}`);
  }
  if (!info.isDirectory()) throw errors.notADirectory(`working directory ${spec.cwd}`);
  if (spec.cmd.includes("/")) checkExecutable(spec.file, spec.cmd);
}

function lookPath(cmd: string, pathVar: string, cwd: string): string {
  if (cmd.includes("/")) return isAbsolute(cmd) ? normalAbsolute(cmd) : resolve(cwd, cmd);
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const file = join(resolve(cwd, dir), cmd);
    try {
      const s = statSync(file);
      if (!s.isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  throw new EnvdError("not_found", `executable ${JSON.stringify(cmd)} not found in PATH`);
}

/** Refuses a file that is missing, a directory, or not executable for envd. */
function checkExecutable(file: string, cmd: string): void {
  let s: Stats;
  try {
    s = statSync(file);
  } catch (err) {
    throw EnvdError.from(err, cmd);
  }
  if (s.isDirectory()) throw errors.isADirectory(cmd);
  try {
    accessSync(file, constants.X_OK);
  } catch (err) {
    throw EnvdError.from(err, cmd);
  }
}
