import { z } from "zod";
import type { Route } from "../../route.ts";
import { Capsule, errorResponses, SafeName } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

const Fields = z.object({
  template: SafeName.default("minimal"),
  vcpus: z.number().int().min(1).max(64).default(1),
  memory_mb: z.number().int().min(128).max(262_144).default(512),
  timeout_sec: z.number().int().min(0).max(31_536_000).default(0),
});

/** Body of POST /v1/capsules with the reference's defaults; a missing body means all defaults. */
export const CreateCapsuleBody = Fields.nullish().transform((v) => v ?? Fields.parse({}));

/** POST /v1/capsules: schedules, creates on the chosen host, 201 Capsule (or the agent's error; the row ends in `error`). */
export const createCapsuleRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    at.base,
    {
      schema: {
        tags: at.tags ?? ["capsules"],
        body: CreateCapsuleBody,
        response: { 201: Capsule, 502: errorResponses[500], 503: errorResponses[500], ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.capsules.create(req.auth, req.body)),
  );
};
