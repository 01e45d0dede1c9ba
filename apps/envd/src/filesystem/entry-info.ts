import type { Stats } from "node:fs";
import { lstat, readFile, readlink } from "node:fs/promises";
import { basename } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { filesystem as pb } from "@wrenn/protocol";
import { EnvdError } from "../errors.ts";

/** An EntryInfo in protobuf-es init form. */
export type EntryInfoInit = MessageInitShape<typeof pb.EntryInfoSchema>;

/** Maps uid/gid to names from /etc/passwd and /etc/group, read once per request. */
export interface IdNames {
  user(uid: number): string;
  group(gid: number): string;
}

/** Loads id→name tables; ids without a name print as numbers (as `ls -n`). */
export async function loadIdNames(): Promise<IdNames> {
  const [users, groups] = await Promise.all([readIdTable("/etc/passwd"), readIdTable("/etc/group")]);
  return {
    user: (uid) => users.get(uid) ?? String(uid),
    group: (gid) => groups.get(gid) ?? String(gid),
  };
}

async function readIdTable(path: string): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  try {
    for (const line of (await readFile(path, "utf8")).split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && f[0]) map.set(Number(f[2]), f[0]);
    }
  } catch {}
  return map;
}

/** ls-style permissions: "-rwxr-xr-x", "drwxr-xr-x", "lrwxrwxrwx", with s/t bits. */
export function permissionString(st: Stats): string {
  const type = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : st.isFIFO() ? "p" : st.isSocket() ? "s" : "-";
  const m = st.mode;
  const rwx = (shift: number, special: boolean, ch: string) => {
    const x = (m >> shift) & 1;
    const exec = special ? (x ? ch : ch.toUpperCase()) : x ? "x" : "-";
    return `${(m >> (shift + 2)) & 1 ? "r" : "-"}${(m >> (shift + 1)) & 1 ? "w" : "-"}${exec}`;
  };
  return type + rwx(6, (m & 0o4000) !== 0, "s") + rwx(3, (m & 0o2000) !== 0, "s") + rwx(0, (m & 0o1000) !== 0, "t");
}

/** Builds the EntryInfo of an already lstat'ed path. */
export async function toEntryInfo(path: string, st: Stats, names: IdNames): Promise<EntryInfoInit> {
  const type = st.isDirectory() ? pb.FileType.DIRECTORY : st.isSymbolicLink() ? pb.FileType.SYMLINK : pb.FileType.FILE;
  const info: EntryInfoInit = {
    name: basename(path) || path,
    type,
    path,
    size: BigInt(st.size),
    mode: st.mode & 0o7777,
    permissions: permissionString(st),
    owner: names.user(st.uid),
    group: names.group(st.gid),
    modifiedTime: { seconds: BigInt(Math.floor(st.mtimeMs / 1000)), nanos: Math.floor((st.mtimeMs % 1000) * 1e6) },
  };
  if (st.isSymbolicLink()) info.symlinkTarget = await readlink(path).catch(() => "");
  return info;
}

/** lstat + toEntryInfo, with errno errors translated. */
export async function statEntry(path: string, names?: IdNames): Promise<EntryInfoInit> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    throw EnvdError.from(err, path);
  }
  return toEntryInfo(path, st, names ?? (await loadIdNames()));
}
