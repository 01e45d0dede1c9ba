import { PLATFORM_TEAM_ID } from "../../../ids.ts";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { AuditLogPage, AuditLogQuerystring } from "./audit-log-query.ts";

/** GET /v1/admin/audit-logs: the platform team's log (regular hosts, templates, builds), both scopes. */
export const listAdminAuditLogsRoute: Route = (app, s) => {
  app.get(
    "/v1/admin/audit-logs",
    {
      schema: {
        tags: ["admin"],
        querystring: AuditLogQuerystring,
        response: { 200: AuditLogPage, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      return s.auditLogs.page({
        teamId: PLATFORM_TEAM_ID,
        scopes: ["team", "admin"],
        resourceTypes: q.resource_type,
        actions: q.action,
        before: q.before,
        beforeId: q.before_id,
        limit: q.limit,
      });
    },
  );
};
