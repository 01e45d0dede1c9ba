import { z } from "zod";
import type { Route } from "../../route.ts";
import { Capsule, errorResponses, IdParams } from "../../schemas.ts";

/** POST /v1/capsules/{id}/ping: resets the inactivity timer; 409 unless running. */
export const pingCapsuleRoute: Route = (app, s) => {
  app.post(
    "/v1/capsules/:id/ping",
    { schema: { tags: ["capsules"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.capsules.ping(req.auth.teamId, req.params.id);
      return reply.status(204).send(null);
    },
  );
};

/** POST /v1/capsules/{id}/pause: snapshot to disk and free the host's resources. */
export const pauseCapsuleRoute: Route = (app, s) => {
  app.post(
    "/v1/capsules/:id/pause",
    { schema: { tags: ["capsules"], params: IdParams, response: { 200: Capsule, ...errorResponses } } },
    async (req) => s.capsules.pause(req.auth, req.params.id),
  );
};

/** POST /v1/capsules/{id}/resume: restore from the pause snapshot. */
export const resumeCapsuleRoute: Route = (app, s) => {
  app.post(
    "/v1/capsules/:id/resume",
    { schema: { tags: ["capsules"], params: IdParams, response: { 200: Capsule, ...errorResponses } } },
    async (req) => s.capsules.resume(req.auth, req.params.id),
  );
};
