/** One member of a newc cpio archive. Paths are relative, without a leading "./" or "/". */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer | string; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/**
 * Writes a newc ("070701") cpio archive, the format the kernel unpacks as an initramfs. Written here
 * rather than by `cpio -o` so that device nodes (/dev/console) need no mknod and no root, every member
 * is owned by 0:0, and the archive is byte-for-byte reproducible (mtime 0).
 */
export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  const pad = () => {
    const n = (4 - (offset % 4)) % 4;
    if (n) push(Buffer.alloc(n));
  };
  const member = (name: string, mode: number, data: Buffer, ino: number, rdev: [number, number] = [0, 0]) => {
    const fields = [
      ino,
      mode,
      0,
      0,
      mode & S_IFDIR ? 2 : 1,
      0,
      data.length,
      0,
      0,
      rdev[0],
      rdev[1],
      Buffer.byteLength(name) + 1,
      0,
    ];
    push(Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`, "ascii"));
    push(Buffer.from(`${name}\0`));
    pad();
    push(data);
    pad();
  };
  entries.forEach((e, i) => {
    const ino = i + 1;
    if (e.kind === "dir") member(e.path, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), ino);
    else if (e.kind === "file") member(e.path, S_IFREG | (e.mode ?? 0o644), Buffer.from(e.data), ino);
    else if (e.kind === "symlink") member(e.path, S_IFLNK | 0o777, Buffer.from(e.target), ino);
    else member(e.path, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), ino, [e.major, e.minor]);
  });
  member("TRAILER!!!", 0, Buffer.alloc(0), 0);
  // The kernel reads initramfs in 512-byte blocks; pad like cpio(1) does.
  const tail = (512 - (offset % 512)) % 512;
  if (tail) push(Buffer.alloc(tail));
  return Buffer.concat(parts);
}
