import type { Migration } from "kysely";
import { metricsMigration } from "../../metrics/migration.ts";
import * as m0001 from "./0001_initial.ts";
import * as m0003 from "./0003_snapshots.ts";
import * as m0004 from "./0004_channels.ts";
import * as m0005 from "./0005_builds.ts";
import * as m0006 from "./0006_oauth.ts";

/**
 * Every migration, in order. Add a file `NNNN_name.ts` and list it here; the key is the
 * name recorded in `kysely_migration`, so never rename one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_metrics": { up: metricsMigration.up, down: metricsMigration.down },
  "0003_snapshots": m0003,
  "0004_channels": m0004,
  "0005_builds": m0005,
  "0006_oauth": m0006,
};
