import { chatWebhookProvider } from "./chat-webhook.ts";

/** Slack incoming webhook: `{"text": …}`. */
export const slack = chatWebhookProvider("slack", (text) => ({ text }));
