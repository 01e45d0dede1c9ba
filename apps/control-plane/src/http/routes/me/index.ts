import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { changePasswordRoute } from "./change-password.ts";
import { deleteMeRoute } from "./delete-me.ts";
import { getMeRoute } from "./get-me.ts";
import { searchUsersRoute } from "./search-users.ts";
import { updateMeRoute } from "./update-me.ts";

/** /v1/me and /v1/users/search: user JWT only. */
export async function meRoutes(app: App, opts: { s: Services }) {
  requireAuth(app, opts.s.authn, { apiKey: false });
  registerRoutes(app, opts.s, [getMeRoute, updateMeRoute, changePasswordRoute, deleteMeRoute, searchUsersRoute]);
}
