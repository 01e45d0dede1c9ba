import multipart from "@fastify/multipart";
import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import type { App } from "../../types.ts";
import { cancelBuildRoute } from "./cancel-build.ts";
import { createBuildRoute } from "./create-build.ts";
import { readBuildRoutes } from "./read-builds.ts";

/** /v1/admin/builds: template builds (reference §9). Platform admins with a user JWT only. */
export async function adminBuildRoutes(app: App, opts: { s: Services }) {
  await app.register(async (scope: App) => {
    requireAuth(scope, opts.s.authn, { apiKey: false, admin: true });
    await scope.register(multipart);
    createBuildRoute(scope, opts.s);
    readBuildRoutes(scope, opts.s);
    cancelBuildRoute(scope, opts.s);
  });
}
