import { z } from "zod";
import { randomHex } from "../../../ids.ts";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams, SafeName, Template } from "../../schemas.ts";

const Body = z
  .object({ name: SafeName.optional().describe("Default: template- plus 8 hex characters") })
  .nullish()
  .transform((v) => v ?? {});

/**
 * POST /v1/admin/capsules/{id}/snapshot: makes a platform capsule into a platform template every team can start
 * capsules from, overwriting a platform template of the same name, then destroys the capsule.
 */
export const snapshotAdminCapsuleRoute: Route = (app, s) => {
  app.post(
    "/v1/admin/capsules/:id/snapshot",
    {
      schema: {
        tags: ["admin"],
        params: IdParams,
        body: Body,
        response: { 201: Template, 502: errorResponses[500], 503: errorResponses[500], ...errorResponses },
      },
    },
    async (req, reply) => {
      const name = req.body.name ?? `template-${randomHex(4)}`;
      const template = await s.snapshots.snapshotAsPlatformTemplate(req.params.id, name, { actor: req.auth });
      return reply.status(201).send(template);
    },
  );
};
