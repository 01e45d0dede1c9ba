import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { Channel, ChannelConfig } from "./channel-schemas.ts";

/** PUT /v1/channels/{id}/config: replaces the provider secrets; a new webhook secret is shown once. */
export const rotateChannelConfigRoute: Route = (app, s) => {
  app.put(
    "/v1/channels/:id/config",
    {
      schema: {
        tags: ["channels"],
        params: IdParams,
        body: z.object({ config: ChannelConfig }),
        response: { 200: Channel, ...errorResponses },
      },
    },
    async (req) => s.channels.rotateConfig(req.auth, req.params.id, req.body.config),
  );
};
