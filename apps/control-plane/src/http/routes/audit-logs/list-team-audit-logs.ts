import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { AuditLogPage, AuditLogQuerystring } from "./audit-log-query.ts";

/** GET /v1/audit-logs: the team's log; `admin`-scope rows (members, hosts, …) only for owners and admins. */
export const listTeamAuditLogsRoute: Route = (app, s) => {
  app.get(
    "/v1/audit-logs",
    {
      schema: {
        tags: ["audit-logs"],
        querystring: AuditLogQuerystring,
        response: { 200: AuditLogPage, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const seesAdmin = req.auth.role === "owner" || req.auth.role === "admin";
      return s.auditLogs.page({
        teamId: req.auth.teamId,
        scopes: seesAdmin ? ["team", "admin"] : ["team"],
        resourceTypes: q.resource_type,
        actions: q.action,
        before: q.before,
        beforeId: q.before_id,
        limit: q.limit,
      });
    },
  );
};
