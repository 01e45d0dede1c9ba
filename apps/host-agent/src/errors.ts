/**
 * The agent's one error type. Every failure the agent reports carries a code from a closed set; the RPC edge maps
 * codes to Connect codes (rpc/connect-errors.ts). Messages say what failed and what to do about it.
 */

/** Closed set of error codes (the reference's snake_case words). */
export type AgentErrorCode =
  | "not_found"
  | "invalid_argument"
  | "invalid_state"
  | "already_exists"
  | "unavailable"
  | "image_missing"
  | "image_corrupt"
  | "vm_start_failed"
  | "vm_not_ready"
  | "template_failed"
  | "guest_error"
  | "timeout"
  | "unimplemented"
  | "unauthenticated"
  | "canceled"
  | "internal_error";

/** An error with a code the caller can act on. `cause` keeps the original failure for logs. */
export class AgentError extends Error {
  override readonly name = "AgentError";
  readonly code: AgentErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: AgentErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Normalises anything thrown: keeps an AgentError, maps aborts to `canceled`, wraps the rest as `internal_error`. */
  static from(err: unknown): AgentError {
    if (err instanceof AgentError) return err;
    if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) {
      return new AgentError(err.name === "TimeoutError" ? "timeout" : "canceled", err.message, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new AgentError("internal_error", message, { cause: err });
  }
}

/** Catalogue of the agent's errors: code and wording fixed in one place. */
export const errors = {
  capsuleNotFound: (id: string) =>
    new AgentError("not_found", `capsule ${id} is not on this host (destroyed, or never created here)`),
  capsuleExists: (id: string) => new AgentError("already_exists", `capsule ${id} already exists on this host`),
  invalidState: (id: string, state: string, action: string) =>
    new AgentError("invalid_state", `cannot ${action} capsule ${id}: it is ${state}`),
  invalidArgument: (message: string) => new AgentError("invalid_argument", message),
  imageMissing: (template: string, path: string) =>
    new AgentError(
      "image_missing",
      `template "${template}" has no image at ${path}; build images with \`npm run images\` or pick another template`,
    ),
  kernelMissing: (path: string) =>
    new AgentError("image_missing", `guest kernel not found at ${path}; build it with \`npm run images\``),
  vmStartFailed: (what: string, detail: string, cause?: unknown) =>
    new AgentError("vm_start_failed", `${what}: QEMU failed: ${detail}`, { cause }),
  vmNotReady: (what: string, waitedMs: number, detail: string) =>
    new AgentError(
      "vm_not_ready",
      `${what}: guest agent did not answer within ${Math.round(waitedMs / 1000)} s; ${detail}`,
    ),
  templateFailed: (key: string, cause: AgentError) =>
    new AgentError(
      cause.code === "image_missing" ? "image_missing" : "template_failed",
      `template ${key}: ${cause.message}`,
      {
        cause,
      },
    ),
  unimplemented: (what: string) => new AgentError("unimplemented", `${what} is not implemented by this agent yet`),
  pauseFailed: (id: string, cause: unknown) =>
    new AgentError(
      "internal_error",
      `pausing capsule ${id} failed; it was resumed and keeps running: ${AgentError.from(cause).message}`,
      { cause },
    ),
  resumeFailed: (id: string, cause: unknown) =>
    new AgentError(
      AgentError.from(cause).code === "timeout" ? "timeout" : "internal_error",
      `resuming capsule ${id} failed; it stays paused and can be resumed again: ${AgentError.from(cause).message}`,
      { cause },
    ),
  snapshotNotFound: (teamId: string, name: string) =>
    new AgentError("not_found", `team ${teamId} has no template "${name}" on this host`),
  snapshotExists: (teamId: string, name: string) =>
    new AgentError("already_exists", `team ${teamId} already has a template "${name}"; pass overwrite to replace it`),
  templateInUse: (what: string, dependents: readonly string[]) =>
    new AgentError(
      "invalid_state",
      `${what} is in use by ${dependents.slice(0, 5).join(", ")}${dependents.length > 5 ? ", …" : ""}: ` +
        "capsules created from it (and templates made from those) read its disk; destroy or delete them first",
    ),
  guest: (what: string, cause: unknown) =>
    new AgentError("guest_error", `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
} as const;
