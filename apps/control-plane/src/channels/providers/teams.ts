import { chatWebhookProvider } from "./chat-webhook.ts";

/** Microsoft Teams incoming webhook: `{"text": …}`. */
export const teams = chatWebhookProvider("teams", (text) => ({ text }));
