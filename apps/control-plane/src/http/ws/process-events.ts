import { ConnectError } from "@connectrpc/connect";
import type { hostagent } from "@wrenn/protocol";
import type { WebSocket } from "ws";
import { agentErrorToWrenn } from "../../agents/connect-errors.ts";
import { sendJson } from "./message-queue.ts";

/** Data frames carry the raw bytes as a string (reference §1.3), not base64. */
const asText = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");

/**
 * Forwards a process event stream (ExecStream / ConnectProcess) to the socket as
 * start/stdout/stderr/exit/error messages, then closes the socket.
 */
export async function pumpProcessEvents(
  socket: WebSocket,
  events: AsyncIterable<{ event?: hostagent.ProcessStreamEvent }>,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const r of events) {
      const e = r.event?.event;
      if (!e) continue;
      if (e.case === "start") sendJson(socket, { type: "start", pid: e.value.pid });
      else if (e.case === "stdout") sendJson(socket, { type: "stdout", data: asText(e.value) });
      else if (e.case === "stderr") sendJson(socket, { type: "stderr", data: asText(e.value) });
      else if (e.case === "end") {
        if (e.value.error) sendJson(socket, { type: "error", data: e.value.error });
        sendJson(socket, { type: "exit", exit_code: e.value.exitCode });
      }
    }
  } catch (err) {
    if (!signal.aborted) {
      const we = err instanceof ConnectError ? agentErrorToWrenn(err) : agentErrorToWrenn(ConnectError.from(err));
      sendJson(socket, { type: "error", data: we.message });
    }
  } finally {
    if (socket.readyState === socket.OPEN) socket.close(1000);
  }
}
