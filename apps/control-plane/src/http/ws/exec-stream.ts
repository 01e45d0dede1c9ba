import { z } from "zod";
import type { Services } from "../../services/container.ts";
import type { App } from "../types.ts";
import { sendJson } from "./message-queue.ts";
import { pumpProcessEvents } from "./process-events.ts";
import { openSession, TEAM_WS, type WsMount } from "./ws-session.ts";

const StartMessage = z.object({
  type: z.literal("start"),
  cmd: z.string().min(1).max(65_536),
  args: z.array(z.string()).max(4096).default([]),
  envs: z.record(z.string(), z.string()).optional(),
  cwd: z.string().max(4096).optional(),
  timeout_sec: z.number().int().min(0).max(86_400).default(0),
});

/** How long a client has to send `start` after connecting. */
const START_TIMEOUT_MS = 30_000;

/**
 * GET (WS) /v1/capsules/{id}/exec/stream: `{"type":"start",cmd,args}` → start/stdout/stderr/exit.
 * `{"type":"stop"}` or closing the socket cancels the command.
 */
export function execStreamRoute(app: App, s: Services, at: WsMount = TEAM_WS): void {
  app.get(`${at.base}/:id/exec/stream`, { websocket: true, schema: { hide: true } }, async (socket, req) => {
    const session = await openSession(socket, req as never, s, "exec", at);
    if (!session) return;
    let start: z.infer<typeof StartMessage> | undefined;
    for (let tries = 0; tries < 16 && !start; tries++) {
      const m = await session.queue.next(START_TIMEOUT_MS);
      if (!m) return session.fail("no start message received");
      if (!m.ok) {
        sendJson(socket, { type: "error", data: m.error });
        continue;
      }
      const parsed = StartMessage.safeParse(m.msg);
      if (!parsed.success)
        sendJson(socket, {
          type: "error",
          data: `expected {"type":"start","cmd":…}: ${parsed.error.issues[0]?.message}`,
        });
      else start = parsed.data;
    }
    if (!start) return session.fail("too many invalid messages");
    const rpcAbort = new AbortController();
    session.signal.addEventListener("abort", () => rpcAbort.abort());
    // After start, only "stop" matters; anything else is ignored.
    void (async () => {
      for (;;) {
        const m = await session.queue.next(3_600_000);
        if (!m) return;
        if (m.ok && m.msg.type === "stop") return rpcAbort.abort();
      }
    })();
    const events = session.client.execStream(
      {
        capsuleId: session.capsuleId,
        cmd: start.cmd,
        args: start.args,
        envs: start.envs ?? {},
        cwd: start.cwd ?? "",
        timeoutSec: start.timeout_sec,
      },
      { signal: rpcAbort.signal },
    );
    await pumpProcessEvents(socket, events, rpcAbort.signal);
  });
}
