import { discord } from "./discord.ts";
import { googlechat } from "./googlechat.ts";
import { matrix } from "./matrix.ts";
import type { Provider } from "./provider.ts";
import { slack } from "./slack.ts";
import { teams } from "./teams.ts";
import { telegram } from "./telegram.ts";
import { webhook } from "./webhook.ts";

/** Every provider a channel can use, by its API name (reference §10). */
export const PROVIDERS = { discord, slack, teams, googlechat, telegram, matrix, webhook } as const satisfies Record<
  string,
  Provider
>;

export type ProviderName = keyof typeof PROVIDERS;

/** The provider names, for validation messages and schemas. */
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as [ProviderName, ...ProviderName[]];

export { DELIVERY_TIMEOUT_MS, type DeliveryContext, type Provider, TELEGRAM_API_URL } from "./provider.ts";
export { DeliveryError } from "./send-request.ts";
export { webhookSignature } from "./webhook.ts";
