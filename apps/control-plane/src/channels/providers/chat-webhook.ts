import { formatMessage } from "../message.ts";
import { checkHttpUrl, type Provider } from "./provider.ts";
import { sendRequest } from "./send-request.ts";

/**
 * A chat service that takes a POST of a JSON message to an incoming-webhook URL (`webhook_url`): Slack, Discord,
 * Teams and Google Chat differ only in the body's shape and in which hosts they accept.
 */
export function chatWebhookProvider(
  label: string,
  body: (text: string) => Record<string, unknown>,
  checkUrl: (url: URL) => string | undefined = () => undefined,
): Provider {
  return {
    required: ["webhook_url"],
    optional: [],
    check: (c) => checkHttpUrl("webhook_url", c.webhook_url) ?? checkUrl(new URL(c.webhook_url ?? "")),
    deliver: (c, event, ctx) =>
      sendRequest(
        label,
        c.webhook_url ?? "",
        { method: "POST", body: JSON.stringify(body(formatMessage(event))) },
        ctx,
      ),
  };
}
