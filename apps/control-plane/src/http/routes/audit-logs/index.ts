import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { listAdminAuditLogsRoute } from "./list-admin-audit-logs.ts";
import { listTeamAuditLogsRoute } from "./list-team-audit-logs.ts";

/** Audit log reads: the team's log (user JWT, as in the reference) and the platform log (platform admins). */
export async function auditLogRoutes(app: App, opts: { s: Services }) {
  await app.register(async (team: App) => {
    requireAuth(team, opts.s.authn, { apiKey: false });
    registerRoutes(team, opts.s, [listTeamAuditLogsRoute]);
  });
  await app.register(async (admin: App) => {
    requireAuth(admin, opts.s.authn, { apiKey: false, admin: true });
    registerRoutes(admin, opts.s, [listAdminAuditLogsRoute]);
  });
}
