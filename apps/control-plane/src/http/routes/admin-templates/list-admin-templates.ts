import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Template } from "../../schemas.ts";

/** One row of the admin template list: a template and the team that owns it. */
export const AdminTemplate = Template.pick({
  name: true,
  type: true,
  vcpus: true,
  memory_mb: true,
  size_bytes: true,
  created_at: true,
})
  .extend({ team_id: z.string().describe("Owning team; team-0000000000000000000000000 for platform templates") })
  .describe("AdminTemplate");

/** GET /v1/admin/templates: every template in the database, platform and team ones. */
export const listAdminTemplatesRoute: Route = (app, s) => {
  app.get(
    "/v1/admin/templates",
    { schema: { tags: ["admin"], response: { 200: z.array(AdminTemplate), ...errorResponses } } },
    async () => s.snapshots.listAll(),
  );
};
