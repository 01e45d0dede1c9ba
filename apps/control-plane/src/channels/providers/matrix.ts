import { randomUUID } from "node:crypto";
import { formatMessage } from "../message.ts";
import { checkHttpUrl, type Provider } from "./provider.ts";
import { sendRequest } from "./send-request.ts";

/** Matrix client-server API: an `m.text` message into `room_id` as the user of `access_token`. */
export const matrix: Provider = {
  required: ["homeserver_url", "access_token", "room_id"],
  optional: [],
  check: (c) =>
    checkHttpUrl("homeserver_url", c.homeserver_url) ??
    (/^[!#][^:]+:.+$/.test(c.room_id ?? "") ? undefined : "room_id must look like !room:server or #alias:server"),
  deliver: (c, event, ctx) => {
    const base = (c.homeserver_url ?? "").replace(/\/+$/, "");
    // A fresh transaction id per send: the homeserver deduplicates retries of one id, and each retry here is new.
    const url = `${base}/_matrix/client/v3/rooms/${encodeURIComponent(c.room_id ?? "")}/send/m.room.message/${randomUUID()}`;
    return sendRequest(
      "matrix",
      url,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${c.access_token}` },
        body: JSON.stringify({ msgtype: "m.text", body: formatMessage(event) }),
      },
      ctx,
    );
  },
};
