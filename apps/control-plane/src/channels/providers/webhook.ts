import { createHmac, randomUUID } from "node:crypto";
import { rfc3339Seconds } from "../events.ts";
import { checkHttpUrl, type Provider } from "./provider.ts";
import { sendRequest } from "./send-request.ts";

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, the X-WRENN-SIGNATURE a receiver recomputes. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** A signed POST of the JSON event to `url` (reference §10); `secret` is generated at create time when omitted. */
export const webhook: Provider = {
  required: ["url"],
  optional: ["secret"],
  check: (c) => checkHttpUrl("url", c.url),
  deliver: (c, event, ctx) => {
    const body = JSON.stringify(event);
    const timestamp = rfc3339Seconds(new Date());
    return sendRequest(
      "webhook",
      c.url ?? "",
      {
        method: "POST",
        headers: {
          "X-WRENN-SIGNATURE": webhookSignature(c.secret ?? "", timestamp, body),
          "X-Wrenn-Delivery": randomUUID(),
          "X-Wrenn-Timestamp": timestamp,
        },
        body,
      },
      ctx,
    );
  },
};
