/** Maps the agent's error codes to Connect codes, in one table. */
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentError, type AgentErrorCode } from "../errors.ts";

/** Connect code of each agent error code. */
export const CONNECT_CODE: Readonly<Record<AgentErrorCode, Code>> = {
  not_found: Code.NotFound,
  invalid_argument: Code.InvalidArgument,
  invalid_state: Code.FailedPrecondition,
  already_exists: Code.AlreadyExists,
  unavailable: Code.Unavailable,
  image_missing: Code.FailedPrecondition,
  image_corrupt: Code.FailedPrecondition,
  vm_start_failed: Code.Internal,
  vm_not_ready: Code.Unavailable,
  template_failed: Code.FailedPrecondition,
  guest_error: Code.Internal,
  timeout: Code.DeadlineExceeded,
  unimplemented: Code.Unimplemented,
  unauthenticated: Code.Unauthenticated,
  canceled: Code.Canceled,
  internal_error: Code.Internal,
};

/** Converts anything thrown inside a handler into a ConnectError the caller can act on. */
export function toConnectError(err: unknown): ConnectError {
  // Errors from envd carry envd's HTTP/1.1 response headers as metadata (e.g. `connection`); passing them
  // on would put hop-by-hop headers into our HTTP/2 response, which breaks the stream. Keep code and text only.
  if (err instanceof ConnectError) return new ConnectError(err.rawMessage, err.code);
  const e = AgentError.from(err);
  return new ConnectError(e.message, CONNECT_CODE[e.code], undefined, undefined, e);
}
