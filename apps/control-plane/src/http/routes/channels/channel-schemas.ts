import { z } from "zod";
import { EVENT_TYPES } from "../../../channels/events.ts";
import { PROVIDER_NAMES } from "../../../channels/providers/index.ts";

/**
 * A provider config: string values (a numeric Telegram chat_id is taken as its digits). Which keys each provider
 * needs is checked by the channel service, so the error names the provider.
 */
export const ChannelConfig = z
  .record(
    z.string(),
    z.union([z.string().max(2048), z.number()]).transform((v) => String(v)),
  )
  .describe(
    "discord/slack/teams/googlechat: webhook_url; telegram: bot_token, chat_id; " +
      "matrix: homeserver_url, access_token, room_id; webhook: url, secret (generated when omitted)",
  );

/** Event names; unknown ones get a 400 from the service that lists the valid ones. */
export const ChannelEvents = z
  .array(z.string().max(100))
  .max(50)
  .describe(`Any of: ${EVENT_TYPES.join(", ")}`);

export const ChannelName = z.string().max(200).describe("Lower-cased, spaces become hyphens; unique in the team");

export const ProviderName = z
  .string()
  .max(50)
  .describe(`One of: ${PROVIDER_NAMES.join(", ")}`);

export const Channel = z
  .object({
    id: z.string(),
    team_id: z.string(),
    name: z.string(),
    provider: z.string(),
    events: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    secret: z.string().optional().describe("The webhook signing secret; only when it was just set or generated"),
  })
  .describe("Channel");
