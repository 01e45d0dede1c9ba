import { parseSelector } from "../../services/capsule-ops.ts";
import type { Services } from "../../services/container.ts";
import type { App } from "../types.ts";
import { pumpProcessEvents } from "./process-events.ts";
import { openSession, TEAM_WS, type WsMount } from "./ws-session.ts";

/** GET (WS) /v1/capsules/{id}/processes/{selector}/stream: a background process's output; client messages are ignored. */
export function processAttachRoute(app: App, s: Services, at: WsMount = TEAM_WS): void {
  app.get(
    `${at.base}/:id/processes/:selector/stream`,
    { websocket: true, schema: { hide: true } },
    async (socket, req) => {
      const session = await openSession(socket, req as never, s, "attach to a process", at);
      if (!session) return;
      const selector = (req.params as { selector: string }).selector;
      const events = session.client.connectProcess(
        { capsuleId: session.capsuleId, selector: { selector: parseSelector(selector) } },
        { signal: session.signal },
      );
      await pumpProcessEvents(socket, events, session.signal);
    },
  );
}
