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
  if (err instanceof ConnectError) return err;
  const e = AgentError.from(err);
  return new ConnectError(e.message, CONNECT_CODE[e.code], undefined, undefined, e);
}
