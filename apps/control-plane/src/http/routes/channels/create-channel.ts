import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { Channel, ChannelConfig, ChannelEvents, ChannelName, ProviderName } from "./channel-schemas.ts";

/** POST /v1/channels: a new notification channel; a webhook's secret is in this answer only. */
export const createChannelRoute: Route = (app, s) => {
  app.post(
    "/v1/channels",
    {
      schema: {
        tags: ["channels"],
        body: z.object({ name: ChannelName, provider: ProviderName, config: ChannelConfig, events: ChannelEvents }),
        response: { 201: Channel, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.channels.create(req.auth, req.body)),
  );
};
