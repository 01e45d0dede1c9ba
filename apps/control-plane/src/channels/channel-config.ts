import { randomBytes } from "node:crypto";
import { errors } from "../errors.ts";
import { EVENT_TYPES, type EventType } from "./events.ts";
import { PROVIDER_NAMES, PROVIDERS, type ProviderName } from "./providers/index.ts";

/** Narrows a provider name; an unknown one is a 400 listing the supported ones. */
export function checkProvider(provider: string): ProviderName {
  if (!(provider in PROVIDERS)) {
    throw errors.invalidRequest(`unsupported provider "${provider}"; use one of ${PROVIDER_NAMES.join(", ")}`);
  }
  return provider as ProviderName;
}

/**
 * Checks a provider config: every required key present and non-empty, no unknown keys, values well formed
 * (URLs, Google Chat's host, Telegram ids). Values are trimmed. Returns the clean config or throws a 400.
 */
export function checkConfig(provider: ProviderName, raw: Record<string, string>): Record<string, string> {
  const p = PROVIDERS[provider];
  const allowed = new Set([...p.required, ...p.optional]);
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!allowed.has(k)) {
      throw errors.invalidRequest(`unknown config key "${k}" for ${provider}; expected ${[...allowed].join(", ")}`);
    }
    if (v.trim() !== "") config[k] = v.trim();
  }
  for (const k of p.required) {
    if (!config[k]) throw errors.invalidRequest(`config.${k} is required for ${provider}`);
  }
  const problem = p.check?.(config);
  if (problem) throw errors.invalidRequest(`config: ${problem}`);
  return config;
}

/** A webhook config gets a generated `secret` when it has none; returns the secret to show once, if any. */
export function withWebhookSecret(provider: ProviderName, config: Record<string, string>): string | undefined {
  if (provider !== "webhook") return undefined;
  config.secret ??= randomBytes(32).toString("hex");
  return config.secret;
}

/** At least one event, each a known type; duplicates dropped. */
export function checkEvents(events: readonly string[]): EventType[] {
  if (events.length === 0) throw errors.invalidRequest("events: at least one event type is required");
  for (const e of events) {
    if (!(EVENT_TYPES as readonly string[]).includes(e)) {
      throw errors.invalidRequest(`events: unknown event type "${e}"; use ${EVENT_TYPES.join(", ")}`);
    }
  }
  return [...new Set(events)] as EventType[];
}

/**
 * A channel name as the reference stores it: trimmed, lower-cased, spaces as hyphens, then the template name
 * rule (`^[a-z0-9][a-z0-9._-]{0,63}$`), so "Ops Alerts" becomes "ops-alerts".
 */
export function cleanChannelName(name: string): string {
  const clean = name.trim().toLowerCase().replaceAll(" ", "-");
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(clean)) {
    throw errors.invalidRequest(
      "name must be 1-64 letters, digits, '.', '_', '-' or spaces, starting with a letter or digit",
    );
  }
  return clean;
}
