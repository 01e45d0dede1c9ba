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
  return isAbsolute(path) ? resolve(path) : resolve(user.home, path);
}

/**
 * Turns a Start request into an exact spawn: env = defaults from /init + HOME/USER/LOGNAME/PATH + the
 * request's envs; cwd resolved against the home and required to be an existing directory; the command
 * looked up on PATH so a missing binary is a clear not_found instead of a process that dies at exec.
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
  let info: Stats;
  try {
    info = statSync(cwd);
  } catch (err) {
    throw EnvdError.from(err, `working directory ${cwd}`);
  }
  if (!info.isDirectory()) throw errors.notADirectory(`working directory ${cwd}`);
  const file = lookPath(input.cmd, env.PATH ?? DEFAULT_PATH, cwd);
  return { file, args: input.args, env, cwd, uid: user.uid, gid: user.gid, stdin: input.stdin };
}

function lookPath(cmd: string, pathVar: string, cwd: string): string {
  if (cmd.includes("/")) {
    const file = resolve(cwd, cmd);
    checkExecutable(file, cmd);
    return file;
  }
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
