import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** One row of the admin template list: a template and the team that owns it. */
export const AdminTemplate = z
  .object({
    name: z.string(),
    type: z.enum(["base", "snapshot"]),
    vcpus: z.number().int(),
    memory_mb: z.number().int(),
    size_bytes: z.number().int(),
    team_id: z.string().describe("Owning team; team-0000000000000000000000000 for platform templates"),
    created_at: z.string(),
  })
  .describe("AdminTemplate");

/** GET /v1/admin/templates: every template in the database, platform and team ones. */
export const listAdminTemplatesRoute: Route = (app, s) => {
  app.get(
    "/v1/admin/templates",
    { schema: { tags: ["admin"], response: { 200: z.array(AdminTemplate), ...errorResponses } } },
    async () => s.snapshots.listAll(),
  );
};
