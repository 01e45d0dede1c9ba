/**
 * Copies a stopped QEMU's guest RAM straight out of its address space (/proc/<pid>/mem) into a sparse file that a
 * later QEMU maps as its memory backend. This is how a pause writes RAM in the form a resume can map instead of
 * stream: QEMU 7.2 can only skip RAM in a save (x-ignore-shared) for shared mappings, and a capsule's RAM is a
 * private copy-on-write mapping of its template's file, so QEMU itself cannot write it out in mappable form.
 *
 * The RAM is the one file-backed mapping of exactly the guest's size whose file is the VM's memory file (or, when
 * the spec names a folder, QEMU's unlinked temp file inside it). Pages that are all zero stay holes.
 */
import { type FileHandle, open, readFile } from "node:fs/promises";
import { AgentError } from "../../errors.ts";

/** One line of /proc/<pid>/maps. */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly perms: string;
  /** Backing path, with a " (deleted)" suffix removed; "" for anonymous memory. */
  readonly path: string;
  readonly deleted: boolean;
}

/** Parses /proc/<pid>/maps text. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[4] ?? "";
    const deleted = raw.endsWith(" (deleted)");
    out.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3] ?? "",
      path: deleted ? raw.slice(0, -" (deleted)".length) : raw,
      deleted,
    });
  }
  return out;
}

/**
 * The guest RAM mapping among `maps`: file-backed, `sizeBytes` long, and its file is `memoryFile` or (a folder)
 * a file directly inside it.
 */
export function findRamMapping(maps: Mapping[], memoryFile: string, sizeBytes: number): Mapping {
  const dir = memoryFile.endsWith("/") ? memoryFile : `${memoryFile}/`;
  const sized = maps.filter((m) => m.path.startsWith("/") && Number(m.end - m.start) === sizeBytes);
  const hit =
    sized.find((m) => m.path === memoryFile) ??
    sized.find((m) => m.path.startsWith(dir) && !m.path.slice(dir.length).includes("/")) ??
    // A record written before its memory file was tracked: the one file mapping of that size is the RAM.
    (sized.length === 1 ? sized[0] : undefined);
  if (!hit) {
    throw new AgentError(
      "internal_error",
      `guest RAM mapping of ${sizeBytes} bytes backed by ${memoryFile} not found in the QEMU process`,
    );
  }
  return hit;
}

/** Size of the zero test: holes are punched at this granularity. */
const BLOCK = 64 * 1024;
/** Bytes read from the process per system call. */
const CHUNK = 8 * 1024 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** Writes the runs of non-zero blocks of `buf[0, len)` at `fileOffset`; zero blocks stay holes. Resolves with bytes. */
async function writeNonZero(dst: FileHandle, buf: Buffer, len: number, fileOffset: number): Promise<number> {
  let written = 0;
  let runStart = -1;
  for (let b = 0; b <= len; b += BLOCK) {
    const zero = b === len || buf.subarray(b, b + BLOCK).equals(ZERO_BLOCK);
    if (!zero && runStart < 0) runStart = b;
    if (zero && runStart >= 0) {
      await dst.write(buf, runStart, b - runStart, fileOffset + runStart);
      written += b - runStart;
      runStart = -1;
    }
  }
  return written;
}

/** Copies the guest RAM of stopped QEMU `pid` into `outPath` (created, sparse). Resolves with bytes written. */
export async function copyGuestRam(
  pid: number,
  memoryFile: string,
  sizeBytes: number,
  outPath: string,
): Promise<number> {
  const mapping = findRamMapping(parseMaps(await readFile(`/proc/${pid}/maps`, "utf8")), memoryFile, sizeBytes);
  const src = await open(`/proc/${pid}/mem`, "r");
  const dst = await open(outPath, "w", 0o600);
  try {
    await dst.truncate(sizeBytes);
    // Two buffers: the next chunk is read while the last one's writes run (both go to libuv's thread pool).
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    const writing: Promise<number>[] = [Promise.resolve(0), Promise.resolve(0)];
    let written = 0;
    for (let off = 0, i = 0; off < sizeBytes; off += CHUNK, i ^= 1) {
      const buf = bufs[i] as Buffer;
      written += await (writing[i] as Promise<number>);
      const len = Math.min(CHUNK, sizeBytes - off);
      const { bytesRead } = await src.read(buf, 0, len, Number(mapping.start) + off);
      if (bytesRead !== len) throw new AgentError("internal_error", `short read of guest RAM at offset ${off}`);
      writing[i] = writeNonZero(dst, buf, len, off);
    }
    for (const w of writing) written += await w;
    return written;
  } finally {
    await src.close();
    await dst.close();
  }
}
