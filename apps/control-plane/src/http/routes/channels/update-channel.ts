import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { Channel, ChannelEvents, ChannelName } from "./channel-schemas.ts";

/** PATCH /v1/channels/{id}: rename and/or change the subscribed events. */
export const updateChannelRoute: Route = (app, s) => {
  app.patch(
    "/v1/channels/:id",
    {
      schema: {
        tags: ["channels"],
        params: IdParams,
        body: z
          .object({ name: ChannelName.optional(), events: ChannelEvents.optional() })
          .refine((b) => b.name !== undefined || b.events !== undefined, "give name, events or both"),
        response: { 200: Channel, ...errorResponses },
      },
    },
    async (req) => s.channels.update(req.auth, req.params.id, req.body),
  );
};
