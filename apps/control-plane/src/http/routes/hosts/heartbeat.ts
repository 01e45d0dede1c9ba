import { z } from "zod";
import { errors } from "../../../errors.ts";
import { PLATFORM_TEAM_ID } from "../../../ids.ts";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

/**
 * POST /v1/hosts/{id}/heartbeat with `X-Host-Token`. An unreachable host goes back online and
 * is reconciled at once, so its `missing` capsules return without waiting for the next tick.
 */
export const heartbeatRoute =
  (onHostBack: (hostId: string) => void): Route =>
  (app, s) => {
    app.post(
      "/v1/hosts/:id/heartbeat",
      {
        schema: {
          tags: ["hosts"],
          params: IdParams,
          // Agents may report facts (version, accelerator); unknown fields are ignored.
          body: z
            .object({ metadata: z.record(z.string(), z.string()).optional() })
            .passthrough()
            .nullish(),
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        const token = req.headers["x-host-token"];
        if (typeof token !== "string" || token === "") throw errors.unauthorized("X-Host-Token required");
        const hostId = await s.tokens.verifyHost(token);
        if (hostId !== req.params.id) throw errors.forbidden("host token does not match the host id");
        const { wasUnreachable } = await s.registration.heartbeat(hostId, req.body?.metadata);
        if (wasUnreachable) {
          req.log.info({ hostId }, "host back online");
          // Filed like marked_down: a BYOC host under its team, a regular one under the platform team (reference §7),
          // so the host.up notification reaches the channels of the team that heard host.down.
          const host = await s.db
            .selectFrom("hosts")
            .select(["type", "team_id"])
            .where("id", "=", hostId)
            .executeTakeFirst();
          await s.audit.record("system", {
            resource_type: "host",
            resource_id: hostId,
            action: "marked_up",
            teamId: host?.type === "byoc" && host.team_id ? host.team_id : PLATFORM_TEAM_ID,
          });
          onHostBack(hostId);
        }
        return reply.status(204).send(null);
      },
    );
  };
