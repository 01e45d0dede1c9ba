import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The folder with the files that go into guests (init scripts, helper sources). */
export const GUEST_DIR = fileURLToPath(new URL("../guest/", import.meta.url));

/** Names of the guest source files; their contents are part of the recipe hashes. */
export type GuestFile = "initramfs-init.sh" | "wrenn-init.sh" | "wrenn-reseed.c" | "wrenn-spawner.c";

/** Reads one guest source file as text. */
export function readGuestFile(name: GuestFile): Promise<string> {
  return readFile(`${GUEST_DIR}${name}`, "utf8");
}
