import type { Migration } from "kysely";
import * as m0001 from "./0001_initial.ts";

/**
 * Every migration, in order. Add a file `NNNN_name.ts` and list it here; the key is the
 * name recorded in `kysely_migration`, so never rename one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  "0001_initial": m0001,
};
