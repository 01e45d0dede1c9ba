import { chown, mkdir } from "node:fs/promises";
import { dirname, relative, sep } from "node:path";
import { EnvdError, errors } from "../errors.ts";
import type { UserIdentity } from "../users.ts";

/** Gives `path` to the user when envd can change ownership (it runs as root); otherwise leaves it. */
export async function chownToUser(path: string, user: UserIdentity): Promise<void> {
  if (user.ownerUid === undefined || user.ownerGid === undefined) return;
  await chown(path, user.ownerUid, user.ownerGid);
}

/**
 * `mkdir -p` that hands every directory it created to the user, so a user's upload into a new folder
 * does not leave root-owned parents behind. Resolves with whether `dir` itself was created.
 */
export async function makeDirsAsUser(dir: string, user: UserIdentity): Promise<boolean> {
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true });
  } catch (err) {
    // mkdir -p over an existing file says EEXIST; what the caller needs to hear is "not a directory".
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw errors.notADirectory(dir);
    throw EnvdError.from(err, dir);
  }
  if (first === undefined) return false;
  const parts = relative(first, dir).split(sep).filter(Boolean);
  let current = first;
  await chownToUser(current, user);
  for (const part of parts) {
    current = `${current}${sep}${part}`;
    await chownToUser(current, user);
  }
  return true;
}

/** Creates the parent directories of a file path, owned by the user. */
export function makeParentsAsUser(file: string, user: UserIdentity): Promise<boolean> {
  return makeDirsAsUser(dirname(file), user);
}
