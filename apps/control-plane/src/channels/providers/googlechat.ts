import { chatWebhookProvider } from "./chat-webhook.ts";

/** Google Chat space webhook: `{"text": …}`; only `https://chat.googleapis.com/...` URLs (reference §10). */
export const googlechat = chatWebhookProvider(
  "googlechat",
  (text) => ({ text }),
  (url) =>
    url.protocol === "https:" && url.hostname === "chat.googleapis.com"
      ? undefined
      : "webhook_url must be an https://chat.googleapis.com/ URL",
);
