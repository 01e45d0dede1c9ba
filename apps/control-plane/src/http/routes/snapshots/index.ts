import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { createSnapshotRoute } from "./create-snapshot.ts";
import { deleteSnapshotRoute } from "./delete-snapshot.ts";
import { listSnapshotsRoute } from "./list-snapshots.ts";

/** /v1/snapshots: team templates made from capsules. API key or user JWT, as the capsule routes. */
export async function snapshotRoutes(app: App, opts: { s: Services }) {
  requireAuth(app, opts.s.authn, { apiKey: true });
  registerRoutes(app, opts.s, [createSnapshotRoute, listSnapshotsRoute, deleteSnapshotRoute]);
}
