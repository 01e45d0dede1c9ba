import { parseSelector } from "../../services/capsule-ops.ts";
import type { Services } from "../../services/container.ts";
import type { App } from "../types.ts";
import { pumpProcessEvents } from "./process-events.ts";
import { openSession } from "./ws-session.ts";

/** GET (WS) /v1/capsules/{id}/processes/{selector}/stream: a background process's output; client messages are ignored. */
export function processAttachRoute(app: App, s: Services): void {
  app.get(
    "/v1/capsules/:id/processes/:selector/stream",
    { websocket: true, schema: { hide: true } },
    async (socket, req) => {
      const session = await openSession(socket, req as never, s, "attach to a process");
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
