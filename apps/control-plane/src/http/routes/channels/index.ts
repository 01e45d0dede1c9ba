import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { createChannelRoute } from "./create-channel.ts";
import { deleteChannelRoute } from "./delete-channel.ts";
import { getChannelRoute } from "./get-channel.ts";
import { listChannelsRoute } from "./list-channels.ts";
import { rotateChannelConfigRoute } from "./rotate-channel-config.ts";
import { testChannelRoute } from "./test-channel.ts";
import { updateChannelRoute } from "./update-channel.ts";

/** /v1/channels: notification channels of the current team (user JWT only, as in the reference). */
export async function channelRoutes(app: App, opts: { s: Services }) {
  requireAuth(app, opts.s.authn, { apiKey: false });
  registerRoutes(app, opts.s, [
    createChannelRoute,
    listChannelsRoute,
    testChannelRoute,
    getChannelRoute,
    updateChannelRoute,
    rotateChannelConfigRoute,
    deleteChannelRoute,
  ]);
}
