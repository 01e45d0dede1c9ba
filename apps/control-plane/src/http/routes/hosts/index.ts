import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { createHostRoute } from "./create-host.ts";
import { deleteHostRoute, deletePreviewRoute } from "./delete-host.ts";
import { getHostRoute } from "./get-host.ts";
import { heartbeatRoute } from "./heartbeat.ts";
import { listHostsRoute } from "./list-hosts.ts";
import { regenerateTokenRoute } from "./regenerate-token.ts";
import { refreshHostRoute, registerHostRoute } from "./register-host.ts";
import { addTagRoute, listTagsRoute, removeTagRoute } from "./tags.ts";

/** Options of the host routes. */
export interface HostRoutesOptions {
  s: Services;
  /** Called when an unreachable host heartbeats again. */
  onHostBack: (hostId: string) => void;
}

/** /v1/hosts: agent-facing routes (registration token, refresh token, host JWT) and user JWT routes. */
export async function hostRoutes(app: App, opts: HostRoutesOptions) {
  registerRoutes(app, opts.s, [registerHostRoute, refreshHostRoute, heartbeatRoute(opts.onHostBack)]);
  await app.register(async (scope: App) => {
    requireAuth(scope, opts.s.authn, { apiKey: false });
    registerRoutes(scope, opts.s, [
      createHostRoute,
      listHostsRoute,
      getHostRoute,
      deleteHostRoute,
      deletePreviewRoute,
      regenerateTokenRoute,
      listTagsRoute,
      addTagRoute,
      removeTagRoute,
    ]);
  });
}
