import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { errors } from "./errors.ts";
import type { EnvdState } from "./state.ts";

/** A resolved guest user. `uid`/`gid` are set only when envd must switch to them (it runs as root). */
export interface UserIdentity {
  name: string;
  home: string;
  shell: string;
  /** uid to run as; undefined means envd's own. */
  uid: number | undefined;
  gid: number | undefined;
  /** The user's real ids, for chown; undefined when envd cannot change ownership. */
  ownerUid: number | undefined;
  ownerGid: number | undefined;
}

/** Looks users up in /etc/passwd, applying envd's default user and dev-mode home. */
export interface UserResolver {
  /** Resolves `name`, or the default user when it is empty or undefined. */
  resolve(name?: string): Promise<UserIdentity>;
}

/** Options of `createUserResolver`. */
export interface UserResolverOptions {
  state: EnvdState;
  isDev: boolean;
  /** Home of every user in dev mode. */
  root: string;
  /** passwd file to read; default /etc/passwd. */
  passwdPath?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/**
 * Creates a resolver. Users may be added inside the capsule at any time, so every lookup checks /etc/passwd; it is
 * parsed again only when it changed (its inode, size, mtime or ctime), because parsing it on every command was ~5% of
 * envd's CPU per started process under the interpreter.
 */
export function createUserResolver(options: UserResolverOptions): UserResolver {
  const self = userInfo();
  const isRoot = process.getuid?.() === 0;
  const passwdPath = options.passwdPath ?? "/etc/passwd";
  let cached: { version: string; entries: PasswdEntry[] } | undefined;
  const passwd = (): PasswdEntry[] => {
    const version = fileVersion(passwdPath);
    if (version === undefined) return [];
    if (cached?.version !== version) cached = { version, entries: readPasswd(passwdPath) };
    return cached.entries;
  };
  return {
    async resolve(name) {
      const wanted = name || options.state.defaultUser || (options.isDev ? self.username : "root");
      const entry = passwd().find((e) => e.name === wanted);
      if (!entry) {
        if (wanted !== self.username) throw errors.unknownUser(wanted);
        return {
          name: wanted,
          home: options.isDev ? options.root : self.homedir,
          shell: self.shell ?? "/bin/sh",
          uid: undefined,
          gid: undefined,
          ownerUid: undefined,
          ownerGid: undefined,
        };
      }
      const mustSwitch = isRoot && entry.uid !== self.uid;
      return {
        name: entry.name,
        home: options.isDev ? options.root : entry.home,
        shell: entry.shell || "/bin/sh",
        uid: mustSwitch ? entry.uid : undefined,
        gid: mustSwitch ? entry.gid : undefined,
        ownerUid: isRoot ? entry.uid : undefined,
        ownerGid: isRoot ? entry.gid : undefined,
      };
    },
  };
}

/** What changes whenever the file does (a rename over it, an edit in place); undefined when it cannot be stat'ed. */
function fileVersion(path: string): string | undefined {
  try {
    // Milliseconds as doubles keep a fraction down to a fraction of a microsecond; BigInt stats cost more to make.
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return undefined;
  }
}

/** Synchronous: a few KiB of local file, cheaper than a thread-pool round trip (milliseconds under TCG). */
function readPasswd(path: string): PasswdEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const entries: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    entries.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! });
  }
  return entries;
}

/** Reads the user name from `Authorization: Basic base64(user:)` (the E2B convention), if present. */
export function userFromAuthorization(header: string | null | undefined): string | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const name = decoded.split(":")[0];
  return name || undefined;
}
