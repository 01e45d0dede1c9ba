import { compileGuestHelper, type GuestHelper } from "./guest-helper.ts";

/** The compiled wrenn-reseed and the hash of the source it came from (part of every template's recipe). */
export type ReseedHelper = GuestHelper;

/** Compiles guest/wrenn-reseed.c into `binDir` (see `compileGuestHelper`). */
export function compileReseedHelper(binDir: string, scratchDir: string): Promise<ReseedHelper> {
  return compileGuestHelper("wrenn-reseed", binDir, scratchDir);
}
