import { z } from "zod";
import type { Route } from "../../route.ts";
import { Capsule, errorResponses } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

/** GET /v1/capsules: the team's capsules except stopped and error ones, newest first. */
export const listCapsulesRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.get(
    at.base,
    { schema: { tags: at.tags ?? ["capsules"], response: { 200: z.array(Capsule), ...errorResponses } } },
    async (req) => s.capsules.list(req.auth.teamId),
  );
};
