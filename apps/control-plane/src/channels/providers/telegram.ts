import { formatMessage } from "../message.ts";
import type { Provider } from "./provider.ts";
import { sendRequest } from "./send-request.ts";

/** Telegram Bot API `sendMessage` (`bot_token` like `123456:ABC-def`, `chat_id` a number or `@channel`). */
export const telegram: Provider = {
  required: ["bot_token", "chat_id"],
  optional: [],
  check: (c) => {
    if (!/^\d+:[A-Za-z0-9_-]+$/.test(c.bot_token ?? "")) return "bot_token must look like 123456789:AAE…";
    if (!/^(-?\d+|@[A-Za-z0-9_]{4,})$/.test(c.chat_id ?? "")) return "chat_id must be a numeric id or an @channel name";
    return undefined;
  },
  deliver: (c, event, ctx) =>
    sendRequest(
      "telegram",
      `${ctx.telegramApiUrl.replace(/\/+$/, "")}/bot${c.bot_token}/sendMessage`,
      { method: "POST", body: JSON.stringify({ chat_id: c.chat_id, text: formatMessage(event) }) },
      ctx,
    ),
};
