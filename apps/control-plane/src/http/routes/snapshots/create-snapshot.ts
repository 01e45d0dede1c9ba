import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, SafeName, Template } from "../../schemas.ts";

const Body = z.object({
  sandbox_id: z.string().min(1).max(200),
  name: SafeName.optional().describe("Default: template- plus 8 hex characters"),
});
const Query = z.object({
  overwrite: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .describe("Replace the team's template of the same name (honoured, unlike the reference)"),
});

/**
 * POST /v1/snapshots: turns a running or paused capsule into a team template. 409 `name_reserved` for a platform
 * name, `template_name_taken` for an existing team template unless `?overwrite=true`.
 */
export const createSnapshotRoute: Route = (app, s) => {
  app.post(
    "/v1/snapshots",
    {
      schema: {
        tags: ["snapshots"],
        body: Body,
        querystring: Query,
        response: { 201: Template, 502: errorResponses[500], 503: errorResponses[500], ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.snapshots.create(req.auth, req.body, req.query.overwrite)),
  );
};
