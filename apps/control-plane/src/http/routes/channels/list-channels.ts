import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { Channel } from "./channel-schemas.ts";

/** GET /v1/channels: the team's channels (configs are never returned). */
export const listChannelsRoute: Route = (app, s) => {
  app.get(
    "/v1/channels",
    { schema: { tags: ["channels"], response: { 200: z.array(Channel), ...errorResponses } } },
    async (req) => s.channels.list(req.auth.teamId),
  );
};
