/**
 * The control plane's one error type. Codes are the reference API's snake_case strings;
 * the HTTP status is fixed per constructor in `errors` below.
 */
export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid_state"
  | "no_team"
  | "account_deactivated"
  | "account_not_activated"
  | "account_disabled"
  | "signup_cooldown"
  | "email_taken"
  | "invalid_token"
  | "already_activated"
  | "wrong_password"
  | "owns_team_with_members"
  | "last_login_method"
  | "has_active_sandboxes"
  | "name_reserved"
  | "template_name_taken"
  | "too_large"
  | "host_unavailable"
  | "no_hosts_available"
  | "agent_error"
  | "delivery_failed"
  | "not_implemented"
  | "db_error"
  | "internal_error";

/** An error the API shows to the user as `{"error":{"code","message"}}`. */
export class WrennError extends Error {
  override readonly name = "WrennError";
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Keeps a WrennError as is; wraps anything else as a 500 `internal_error` with `cause`. */
  static from(err: unknown): WrennError {
    if (err instanceof WrennError) return err;
    if (err instanceof Error && err.name === "AbortError") {
      return new WrennError("internal_error", 499, "request cancelled", undefined, { cause: err });
    }
    return new WrennError("internal_error", 500, "internal server error", undefined, { cause: err });
  }
}

const e = (code: ErrorCode, status: number, message: string, details?: Record<string, unknown>) =>
  new WrennError(code, status, message, details);

/** Catalogue of every error the control plane raises: code, status and wording in one place. */
export const errors = {
  invalidRequest: (msg: string) => e("invalid_request", 400, msg),
  unauthorized: (msg = "authentication required") => e("unauthorized", 401, msg),
  forbidden: (msg = "forbidden") => e("forbidden", 403, msg),
  notFound: (what: string) => e("not_found", 404, `${what} not found`),
  capsuleNotFound: (id: string) => e("not_found", 404, `capsule ${id} not found`),
  hostNotFound: (id: string) => e("not_found", 404, `host ${id} not found`),
  conflict: (msg: string) => e("conflict", 409, msg),
  invalidState: (id: string, status: string, action: string) =>
    e("invalid_state", 409, `capsule ${id} is ${status}, cannot ${action}`),
  capsuleBusy: (id: string, op: string) =>
    e("conflict", 409, `capsule ${id} is busy: a ${op} is in progress; try again when it finishes`),
  noTeam: () => e("no_team", 403, "this credential has no team"),
  accountDeactivated: () => e("account_deactivated", 403, "account is deactivated"),
  accountNotActivated: () => e("account_not_activated", 403, "account is not activated; check your email"),
  accountDisabled: () => e("account_disabled", 403, "account is disabled"),
  signupCooldown: () => e("signup_cooldown", 409, "a signup for this email is pending; try again in 30 minutes"),
  emailTaken: () => e("email_taken", 409, "email is already registered"),
  invalidToken: (msg = "invalid or expired token") => e("invalid_token", 400, msg),
  alreadyActivated: () => e("already_activated", 400, "account is already activated"),
  wrongPassword: () => e("wrong_password", 401, "invalid email or password"),
  oauthProviderDisabled: (provider: string) =>
    e(
      "not_found",
      404,
      `${provider} sign-in is not enabled on this server: set OAUTH_${provider.toUpperCase()}_CLIENT_ID and OAUTH_${provider.toUpperCase()}_CLIENT_SECRET`,
    ),
  lastLoginMethod: () => e("last_login_method", 400, "cannot disconnect your only login method; add a password first"),
  ownsTeamWithMembers: () => e("owns_team_with_members", 409, "you own teams with other members; transfer them first"),
  hostHasCapsules: (ids: string[]) =>
    e("has_active_sandboxes", 409, "host has active capsules; use force=true to destroy them", { sandbox_ids: ids }),
  templateNotFound: (name: string) => e("not_found", 404, `template ${name} not found`),
  nameReserved: (name: string) => e("name_reserved", 409, `${name} is a platform template name; choose another name`),
  templateNameTaken: (name: string) =>
    e("template_name_taken", 409, `your team already has a template named ${name}; pass overwrite=true to replace it`),
  platformTemplate: (name: string) => e("forbidden", 403, `${name} is a platform template and cannot be deleted`),
  tooLarge: (limitBytes: number) => e("too_large", 413, `body exceeds the limit of ${limitBytes} bytes`),
  hostUnavailable: (msg = "host is unavailable") => e("host_unavailable", 503, msg),
  noHostsAvailable: (msg = "no servers available — try again later") => e("no_hosts_available", 503, msg),
  agentError: (status: number, msg: string) => e("agent_error", status, msg),
  deliveryFailed: (msg: string) => e("delivery_failed", 502, `test notification not delivered: ${msg}`),
  internal: () => e("internal_error", 500, "internal server error"),
};
