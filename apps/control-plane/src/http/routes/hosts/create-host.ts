import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Host } from "../../schemas.ts";

/** POST /v1/hosts: a pending host plus a one-hour registration token. */
export const createHostRoute: Route = (app, s) => {
  app.post(
    "/v1/hosts",
    {
      schema: {
        tags: ["hosts"],
        body: z.object({
          type: z.enum(["regular", "byoc"]).default("regular"),
          team_id: z.string().max(200).optional(),
          provider: z.string().max(100).optional(),
          availability_zone: z.string().max(100).optional(),
        }),
        response: { 201: z.object({ host: Host, registration_token: z.string() }), ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.hosts.create(req.auth, req.body)),
  );
};
