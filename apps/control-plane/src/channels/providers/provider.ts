import type { ChannelEvent } from "../events.ts";

/** What a delivery needs besides the channel's config. */
export interface DeliveryContext {
  /** Base URL of the Telegram Bot API (default https://api.telegram.org; a proxy or test server otherwise). */
  telegramApiUrl: string;
  /** Per-request deadline in ms (reference: 10 s). */
  timeoutMs: number;
  /** Aborts the request early (the dispatcher stopping). */
  signal?: AbortSignal;
}

/** One notification provider: its config keys, their checks, and how it sends an event. */
export interface Provider {
  /** Keys that must be present and non-empty. */
  required: readonly string[];
  /** Keys that may be present. */
  optional: readonly string[];
  /** Checks beyond presence (URL shape, allowed host); returns a message for the user, or undefined when fine. */
  check?(config: Readonly<Record<string, string>>): string | undefined;
  deliver(config: Readonly<Record<string, string>>, event: ChannelEvent, ctx: DeliveryContext): Promise<void>;
}

/** The message of `value` when it is not an http(s) URL, else undefined. */
export function checkHttpUrl(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${field} must be an http(s) URL`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `${field} must be an http(s) URL`;
  return undefined;
}

/** The reference's deadline for one delivery. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** Where Telegram's Bot API lives unless `WRENN_TELEGRAM_API_URL` says otherwise. */
export const TELEGRAM_API_URL = "https://api.telegram.org";
