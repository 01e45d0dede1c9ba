import { compileGuestHelper, type GuestHelper } from "./guest-helper.ts";

/** The compiled wrenn-spawner and the hash of the source it came from (part of every template's recipe). */
export type SpawnerHelper = GuestHelper;

/**
 * Compiles guest/wrenn-spawner.c into `binDir` (see `compileGuestHelper`). envd starts it once and has it
 * fork and exec every pipe process, so envd itself is never forked.
 */
export function compileSpawnerHelper(binDir: string, scratchDir: string): Promise<SpawnerHelper> {
  return compileGuestHelper("wrenn-spawner", binDir, scratchDir);
}
