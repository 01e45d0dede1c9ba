import multipart from "@fastify/multipart";
import { agentErrorToWrenn } from "../../../agents/connect-errors.ts";
import { type MetricsRoutesOptions, metricsRoutes } from "../../../metrics/index.ts";
import { capsuleOfTeam, targetOf } from "../../../services/capsule-store.ts";
import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { websocketRoutes } from "../../ws/index.ts";
import { createCapsuleRoute } from "./create-capsule.ts";
import { destroyCapsuleRoute } from "./destroy-capsule.ts";
import { execRoute } from "./exec.ts";
import { streamReadRoute, streamWriteRoute } from "./file-streams.ts";
import { listDirRoute, makeDirRoute, readFileRoute, removePathRoute, writeFileRoute } from "./files.ts";
import { getCapsuleRoute } from "./get-capsule.ts";
import { pauseCapsuleRoute, pingCapsuleRoute, resumeCapsuleRoute } from "./lifecycle.ts";
import { listCapsulesRoute } from "./list-capsules.ts";
import { killProcessRoute, listProcessesRoute } from "./processes.ts";

/** How the metrics routes find the caller's capsules (team routes and admin ones alike). */
export function capsuleMetricsOptions(s: Services): MetricsRoutesOptions {
  return {
    db: s.db,
    teamIdOf: (req) => req.auth.teamId,
    findCapsule: async (id, teamId) => {
      const c = await capsuleOfTeam(s.db, teamId, id);
      return { status: c.status, agent: () => s.agents.client(targetOf(c)) };
    },
    agentError: agentErrorToWrenn,
  };
}

/** /v1/capsules: API key or user JWT. WebSockets get their own scope (first-message auth). */
export async function capsuleRoutes(app: App, opts: { s: Services }) {
  await app.register(async (scope: App) => {
    requireAuth(scope, opts.s.authn, { apiKey: true });
    await scope.register(multipart);
    registerRoutes(scope, opts.s, [
      createCapsuleRoute,
      listCapsulesRoute,
      getCapsuleRoute,
      destroyCapsuleRoute,
      pingCapsuleRoute,
      pauseCapsuleRoute,
      resumeCapsuleRoute,
      execRoute,
      listProcessesRoute,
      killProcessRoute,
      writeFileRoute,
      readFileRoute,
      listDirRoute,
      makeDirRoute,
      removePathRoute,
      streamWriteRoute,
      streamReadRoute,
    ]);
    // GET /v1/capsules/stats, /usage and /{id}/metrics (static paths win over `:id`).
    await scope.register(metricsRoutes, capsuleMetricsOptions(opts.s));
  });
  await app.register(websocketRoutes, { s: opts.s });
}
