/**
 * Host-side facts for VM tests: a temp files root linked to the built kernel and images, the QEMU processes
 * running under a root, and whether a loopback port listens.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where built images are read from (WRENN_IMAGES_ROOT overrides /var/lib/wrenn). */
export const IMAGES_ROOT = process.env.WRENN_IMAGES_ROOT ?? "/var/lib/wrenn";

/** Why VM tests cannot run here, or undefined when they can. */
export function vmSkipReason(): string | undefined {
  const rootfs = join(IMAGES_ROOT, "images/minimal/rootfs.ext4");
  if (!existsSync(rootfs)) return `no guest image at ${rootfs}: build images first (npm run images)`;
  if (!existsSync(join(IMAGES_ROOT, "kernels/vmlinuz"))) return `no guest kernel under ${IMAGES_ROOT}/kernels`;
  return undefined;
}

/** A temp files root whose kernels/ and images/ link to the built ones. */
export async function makeTestRoot(prefix = "wrenn-agent-e2e-"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await symlink(join(IMAGES_ROOT, "kernels"), join(root, "kernels"));
  await symlink(join(IMAGES_ROOT, "images"), join(root, "images"));
  return root;
}

/** PIDs of live (non-zombie) processes whose command line mentions `needle` (e.g. a test root). */
export async function processesMentioning(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8");
      if (!cmdline.includes(needle)) continue;
      const stat = await readFile(`/proc/${name}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
      if (state !== "Z" && state !== "X") out.push(Number(name));
    } catch {
      // Gone between readdir and read.
    }
  }
  return out;
}

/** Kills every process mentioning `needle` (test teardown safety net) and removes the root. */
export async function cleanupRoot(root: string): Promise<void> {
  for (const pid of await processesMentioning(join(root, "/"))) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await rm(root, { recursive: true, force: true });
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** Polls `check` every 100 ms until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** True when `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
