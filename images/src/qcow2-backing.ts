import { open, readdir, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ignoreMissing } from "./fs-atomic.ts";

/** "QFI\xfb", the first four bytes of every qcow2 file. */
const QCOW2_MAGIC = 0x514649fb;
/** QEMU refuses to open a qcow2 whose backing file name is longer than this (qcow2_do_open in block/qcow2.c). */
const MAX_BACKING_NAME = 1023;
/** Deep enough for team-templates/<team>/<name>/disk.qcow2 and the like, shallow enough to stay cheap. */
const DEFAULT_MAX_DEPTH = 6;

/**
 * Reads the backing file name a qcow2 file's header names, as written (relative names are relative to the
 * overlay's folder). Undefined for a qcow2 without backing file or a file that is not qcow2.
 */
export async function readBackingFile(path: string): Promise<string | undefined> {
  const fh = await open(path, "r");
  try {
    const header = Buffer.alloc(20);
    const { bytesRead } = await fh.read(header, 0, header.length, 0);
    if (bytesRead < header.length || header.readUInt32BE(0) !== QCOW2_MAGIC) return undefined;
    const offset = header.readBigUInt64BE(8);
    const size = header.readUInt32BE(16);
    if (offset === 0n || size === 0 || size > MAX_BACKING_NAME || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      return undefined;
    }
    const name = Buffer.alloc(size);
    const got = await fh.read(name, 0, size, Number(offset));
    return got.bytesRead === size ? name.toString("utf8") : undefined;
  } finally {
    await fh.close();
  }
}

/**
 * Every file named as a backing file by a `*.qcow2` under `roots` (folders at most `maxDepth` levels down,
 * symlinked folders not followed), each as its path resolved against the overlay's folder and, when it exists,
 * its real path. Missing roots and files that vanish mid-scan are skipped; any other read error throws, because a
 * folder we cannot read may hold the one overlay that keeps an image alive.
 */
export async function findBackingFiles(roots: readonly string[], maxDepth = DEFAULT_MAX_DEPTH): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(ignoreMissing);
    for (const entry of entries ?? []) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth < maxDepth) await walk(path, depth + 1);
      } else if (entry.name.endsWith(".qcow2") && (entry.isFile() || entry.isSymbolicLink())) {
        const backing = await readBackingFile(path).catch(ignoreMissing);
        if (backing === undefined || backing.startsWith("json:")) continue;
        const resolved = isAbsolute(backing) ? resolve(backing) : resolve(dirname(path), backing);
        found.add(resolved);
        const real = await realpath(resolved).catch(ignoreMissing);
        if (real) found.add(real);
      }
    }
  };
  for (const root of roots) await walk(root, 0);
  return found;
}
