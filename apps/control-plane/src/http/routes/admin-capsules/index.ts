import multipart from "@fastify/multipart";
import { PLATFORM_TEAM_ID } from "../../../ids.ts";
import { registerCapsuleMetricsRoute } from "../../../metrics/index.ts";
import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { type RouteMount, registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { websocketRoutes } from "../../ws/index.ts";
import type { WsMount } from "../../ws/ws-session.ts";
import { createCapsuleRoute } from "../capsules/create-capsule.ts";
import { destroyCapsuleRoute } from "../capsules/destroy-capsule.ts";
import { execRoute } from "../capsules/exec.ts";
import { listDirRoute, makeDirRoute, readFileRoute, removePathRoute, writeFileRoute } from "../capsules/files.ts";
import { getCapsuleRoute } from "../capsules/get-capsule.ts";
import { capsuleMetricsOptions } from "../capsules/index.ts";
import { listCapsulesRoute } from "../capsules/list-capsules.ts";
import { killProcessRoute, listProcessesRoute } from "../capsules/processes.ts";
import { snapshotAdminCapsuleRoute } from "./snapshot-admin-capsule.ts";

/** The team capsule handlers, mounted for platform admins. */
const ADMIN_CAPSULES: RouteMount = { base: "/v1/admin/capsules", tags: ["admin"] };
const ADMIN_WS: WsMount = { base: "/v1/admin/capsules", admin: true };

/**
 * /v1/admin/capsules: capsules of the platform team (templates made by hand), through the same handlers as
 * /v1/capsules with the caller's team replaced by the platform team. Platform admins with a user JWT only;
 * the WebSockets always authenticate with a first message (reference §1.3).
 */
export async function adminCapsuleRoutes(app: App, opts: { s: Services }) {
  const { s } = opts;
  await app.register(async (scope: App) => {
    requireAuth(scope, s.authn, { apiKey: false, admin: true });
    // After requireAuth's hook (hooks run in order): every handler below acts as the platform team.
    scope.addHook("onRequest", async (req) => {
      req.auth = { ...req.auth, teamId: PLATFORM_TEAM_ID };
    });
    await scope.register(multipart);
    registerRoutes(
      scope,
      s,
      [
        createCapsuleRoute,
        listCapsulesRoute,
        getCapsuleRoute,
        destroyCapsuleRoute,
        execRoute,
        listProcessesRoute,
        killProcessRoute,
        writeFileRoute,
        readFileRoute,
        listDirRoute,
        makeDirRoute,
        removePathRoute,
      ],
      ADMIN_CAPSULES,
    );
    snapshotAdminCapsuleRoute(scope, s);
    registerCapsuleMetricsRoute(scope as never, {
      ...capsuleMetricsOptions(s),
      capsulesPath: ADMIN_CAPSULES.base,
      tags: ADMIN_CAPSULES.tags,
    });
  });
  await app.register(websocketRoutes, { s, mount: ADMIN_WS });
}
