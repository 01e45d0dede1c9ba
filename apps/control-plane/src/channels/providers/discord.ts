import { chatWebhookProvider } from "./chat-webhook.ts";

/** Discord webhook: `{"content": …}` (Discord caps content at 2000 characters; our messages are far shorter). */
export const discord = chatWebhookProvider("discord", (text) => ({ content: text }));
