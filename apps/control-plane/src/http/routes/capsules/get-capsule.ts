import type { Route } from "../../route.ts";
import { Capsule, errorResponses, IdParams } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

/**
 * GET /v1/capsules/{id}. A parametric route: static siblings registered later
 * (`/v1/capsules/stats`, `/v1/capsules/usage`) take precedence in the router.
 */
export const getCapsuleRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.get(
    `${at.base}/:id`,
    { schema: { tags: at.tags ?? ["capsules"], params: IdParams, response: { 200: Capsule, ...errorResponses } } },
    async (req) => s.capsules.get(req.auth.teamId, req.params.id),
  );
};
