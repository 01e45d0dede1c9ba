import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { Channel } from "./channel-schemas.ts";

/** GET /v1/channels/{id}: one channel of the team; another team's is 404. */
export const getChannelRoute: Route = (app, s) => {
  app.get(
    "/v1/channels/:id",
    { schema: { tags: ["channels"], params: IdParams, response: { 200: Channel, ...errorResponses } } },
    async (req) => s.channels.get(req.auth.teamId, req.params.id),
  );
};
