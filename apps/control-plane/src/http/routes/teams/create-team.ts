import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Team } from "../../schemas.ts";

/** Team names (reference): letters, digits, space and _-@' up to 128 characters. */
export const TeamName = z.string().regex(/^[A-Za-z0-9 _\-@']{1,128}$/, "must match ^[A-Za-z0-9 _\\-@']{1,128}$");

/** POST /v1/teams: creates a team owned by the caller. */
export const createTeamRoute: Route = (app, s) => {
  app.post(
    "/v1/teams",
    {
      schema: {
        tags: ["teams"],
        body: z.object({ name: TeamName }),
        response: { 201: Team.extend({ role: z.string() }), ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.teams.create(req.auth, req.body.name)),
  );
};
