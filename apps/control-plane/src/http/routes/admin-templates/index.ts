import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { deleteAdminTemplateRoute } from "./delete-admin-template.ts";
import { listAdminTemplatesRoute } from "./list-admin-templates.ts";

/** /v1/admin/templates: every team's templates, and deletion of platform ones. Platform admins only. */
export async function adminTemplateRoutes(app: App, opts: { s: Services }) {
  requireAuth(app, opts.s.authn, { apiKey: false, admin: true });
  registerRoutes(app, opts.s, [listAdminTemplatesRoute, deleteAdminTemplateRoute]);
}
