import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, WrennError } from "../errors.ts";

/**
 * How an agent's Connect code becomes an HTTP answer (reference §1.1). The agent's message is
 * passed through, except for Unavailable, which the reference words for users.
 */
export const CONNECT_TO_HTTP: ReadonlyMap<Code, { status: number; code: ErrorCode }> = new Map([
  [Code.NotFound, { status: 404, code: "not_found" }],
  [Code.InvalidArgument, { status: 400, code: "invalid_request" }],
  [Code.FailedPrecondition, { status: 409, code: "conflict" }],
  [Code.AlreadyExists, { status: 409, code: "conflict" }],
  [Code.PermissionDenied, { status: 403, code: "forbidden" }],
  [Code.Unavailable, { status: 503, code: "no_hosts_available" }],
  [Code.Unimplemented, { status: 501, code: "agent_error" }],
]);

/** Converts an error from an agent RPC into a WrennError; anything unmapped is 502 `agent_error`. */
export function agentErrorToWrenn(err: unknown): WrennError {
  if (err instanceof WrennError) return err;
  const ce = ConnectError.from(err);
  const m = CONNECT_TO_HTTP.get(ce.code);
  if (!m) return new WrennError("agent_error", 502, ce.rawMessage || "agent error", undefined, { cause: err });
  const message = ce.code === Code.Unavailable ? "no servers available — try again later" : ce.rawMessage;
  return new WrennError(m.code, m.status, message, undefined, { cause: err });
}
