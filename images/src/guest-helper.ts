import { createHash } from "node:crypto";
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { allExist, withScratchDir } from "./fs-atomic.ts";
import { GUEST_DIR, readGuestFile } from "./guest-files.ts";
import { runCommand } from "./run-command.ts";

/** The C helpers the guest image carries, each built from guest/<name>.c. */
export type GuestHelperName = "wrenn-reseed" | "wrenn-spawner";

/** A compiled guest helper and the hash of the source it came from (part of every template's recipe). */
export interface GuestHelper {
  path: string;
  sourceSha256: string;
}

/**
 * Compiles guest/<name>.c with the host's `gcc -static -Os` into `binDir`, named by the source's hash so an
 * unchanged source is compiled once. Static: the guest needs no matching libc.
 */
export async function compileGuestHelper(
  name: GuestHelperName,
  binDir: string,
  scratchDir: string,
): Promise<GuestHelper> {
  const source = await readGuestFile(`${name}.c`);
  const sourceSha256 = createHash("sha256").update(source).digest("hex");
  const path = join(binDir, `${name}-${sourceSha256.slice(0, 16)}`);
  if (await allExist([path])) return { path, sourceSha256 };
  await mkdir(binDir, { recursive: true });
  await withScratchDir(scratchDir, name, async (dir) => {
    const out = join(dir, name);
    await runCommand("gcc", ["-static", "-Os", "-s", "-Wall", "-Werror", "-o", out, join(GUEST_DIR, `${name}.c`)], {
      timeoutMs: 120_000,
      hint: "apt-get install -y gcc libc6-dev",
    });
    await rename(out, path);
  });
  return { path, sourceSha256 };
}
