import { z } from "zod";
import type { Route } from "../../route.ts";
import { ErrorBody, errorResponses } from "../../schemas.ts";
import { ChannelConfig, ProviderName } from "./channel-schemas.ts";

/** POST /v1/channels/test: sends a test message with an unsaved config; 502 `delivery_failed` when refused. */
export const testChannelRoute: Route = (app, s) => {
  app.post(
    "/v1/channels/test",
    {
      schema: {
        tags: ["channels"],
        body: z.object({ provider: ProviderName, config: ChannelConfig }),
        response: { 200: z.object({ status: z.literal("ok") }), 502: ErrorBody, ...errorResponses },
      },
    },
    async (req) => {
      await s.channels.test(req.auth, req.body);
      return { status: "ok" as const };
    },
  );
};
