import type { FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { AgentClient } from "../../agents/agent-pool.ts";
import type { AuthContext } from "../../auth/auth-context.ts";
import { errors, WrennError } from "../../errors.ts";
import { PLATFORM_TEAM_ID } from "../../ids.ts";
import type { Services } from "../../services/container.ts";
import { toWrennError } from "../error-handler.ts";
import { MessageQueue, sendJson } from "./message-queue.ts";

/** Browsers cannot set headers: they must send `{"type":"auth","token"}` within this window. */
export const WS_AUTH_TIMEOUT_MS = 5000;
const TOUCH_EVERY_MS = 1000;

/** Where the capsule WebSockets are mounted and who may open them. */
export interface WsMount {
  /** Path prefix, e.g. `/v1/capsules`. */
  base: string;
  /**
   * Platform admins only (reference §1.3): first-message JWT auth whatever the headers say, `users.is_admin` as
   * re-read by the authenticator, and the team forced to the platform team.
   */
  admin: boolean;
}

/** The team WebSockets: header or first-message credentials, the caller's own team. */
export const TEAM_WS: WsMount = { base: "/v1/capsules", admin: false };

/** An authenticated socket bound to a running capsule. */
export interface WsSession {
  socket: WebSocket;
  queue: MessageQueue;
  auth: AuthContext;
  client: AgentClient;
  capsuleId: string;
  /** Aborted when the socket closes; pass to every streaming RPC. */
  signal: AbortSignal;
  /** Records activity (PTY input); writes at most once a second per session. */
  touch(): void;
  /** Sends `{"type":"error","data"}` (plus extra fields) and closes with `code`. */
  fail(message: string, extra?: Record<string, unknown>, code?: number): void;
}

/**
 * Opens a WebSocket session: credentials from the upgrade headers (checked in the scope's hook)
 * or a first auth message (a user JWT, or an API key as a Wrenn addition); then the capsule must
 * belong to the caller's team and be running. Returns undefined after telling the client why not.
 */
export async function openSession(
  socket: WebSocket,
  req: FastifyRequest<{ Params: { id: string } }>,
  s: Services,
  action: string,
  mount: WsMount = TEAM_WS,
): Promise<WsSession | undefined> {
  const queue = new MessageQueue(socket);
  const abort = new AbortController();
  socket.once("close", () => abort.abort());
  const fail = (message: string, extra: Record<string, unknown> = {}, code = 1008) => {
    sendJson(socket, { type: "error", data: message, ...extra });
    socket.close(code, message.slice(0, 120));
  };
  try {
    let auth = mount.admin ? undefined : (req as FastifyRequest & { wsAuth?: AuthContext }).wsAuth;
    if (!auth) {
      const first = await queue.next(WS_AUTH_TIMEOUT_MS);
      if (!first) {
        fail('authentication timeout: send {"type":"auth","token":…} first');
        return undefined;
      }
      if (!first.ok || first.msg.type !== "auth" || typeof first.msg.token !== "string" || first.msg.token === "") {
        fail('first message must be {"type":"auth","token":"<jwt or api key>"}');
        return undefined;
      }
      const token = first.msg.token;
      if (mount.admin && token.startsWith("wrn_")) throw errors.unauthorized("admin sockets need a user token");
      auth = token.startsWith("wrn_") ? await s.authn.apiKey(token) : await s.authn.jwt(token);
    }
    if (mount.admin) {
      if (!auth.isAdmin) throw errors.forbidden("platform admin only");
      auth = { ...auth, teamId: PLATFORM_TEAM_ID };
    }
    const { client, id } = await s.ops.running(auth.teamId, req.params.id, action);
    let touchedAt = Date.now();
    const touch = () => {
      // Typing sends a frame per key; one write a second keeps last_active_at current without a write per frame.
      if (Date.now() - touchedAt < TOUCH_EVERY_MS) return;
      touchedAt = Date.now();
      s.ops.touch(id);
    };
    return { socket, queue, auth, client, capsuleId: id, signal: abort.signal, touch, fail };
  } catch (err) {
    const we = err instanceof WrennError ? err : toWrennError(err);
    fail(we.message, { code: we.code });
    return undefined;
  }
}
