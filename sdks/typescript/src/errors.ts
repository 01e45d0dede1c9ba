/**
 * Typed errors for the Wrenn SDK.
 *
 * Every failure the SDK raises is a {@link WrennError}. The control plane answers errors as
 * `{"error":{"code","message"}}`; {@link errorFromBody} turns that into the matching subclass through one
 * table ({@link ERROR_CLASSES}), so callers can decide by `instanceof` or by `code`, never by message text.
 */

/** Options shared by every error class. */
export interface WrennErrorOptions {
  /** HTTP status of the answer, or 0 when the error happened on the client side. */
  status?: number;
  /** The underlying error, when one was caught. */
  cause?: unknown;
  /** Extra fields from the error body (for example `sandbox_ids`). */
  details?: Record<string, unknown>;
}

/** Base class of every error the SDK throws. `code` is the API's snake_case error code. */
export class WrennError extends Error {
  override name = "WrennError";
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: WrennErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.details = options.details ?? {};
  }

  /**
   * Normalises anything caught into a WrennError: keeps a WrennError, maps an abort to `canceled`
   * (or `timeout` when the abort reason is a timeout) and wraps the rest as `internal_error`.
   */
  static from(err: unknown): WrennError {
    if (err instanceof WrennError) return err;
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      if (err.name === "TimeoutError")
        return new TimeoutError(err.message || "the operation timed out", { cause: err });
      return new AbortError("the operation was aborted", { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new WrennError("internal_error", message, { cause: err });
  }
}

/** 400: the request was malformed or a value was out of range. */
export class InvalidRequestError extends WrennError {
  override name = "InvalidRequestError";
}
/** 401: the API key or token is missing, wrong or expired. */
export class AuthenticationError extends WrennError {
  override name = "AuthenticationError";
}
/** 403: the credentials are valid but not allowed to do this. */
export class ForbiddenError extends WrennError {
  override name = "ForbiddenError";
}
/** 404: the capsule, file, process, snapshot or host does not exist (or is not visible to this team). */
export class NotFoundError extends WrennError {
  override name = "NotFoundError";
}
/** 409: the request conflicts with existing state (a name is taken, …). */
export class ConflictError extends WrennError {
  override name = "ConflictError";
}
/** 409 `invalid_state`: the capsule is not in a state that allows this (e.g. pausing a paused capsule). */
export class InvalidStateError extends ConflictError {
  override name = "InvalidStateError";
}
/** 409: a host still has capsules; `capsuleIds` lists them. */
export class HostHasCapsulesError extends ConflictError {
  override name = "HostHasCapsulesError";
  /** The capsules that keep the host busy. */
  get capsuleIds(): string[] {
    const ids = this.details.sandbox_ids ?? this.details.capsule_ids;
    return Array.isArray(ids) ? ids.map(String) : [];
  }
}
/** 413: an upload or body was over the server's limit. */
export class TooLargeError extends WrennError {
  override name = "TooLargeError";
}
/** 503: no host can take the capsule right now. Retry later or register a host. */
export class HostUnavailableError extends WrennError {
  override name = "HostUnavailableError";
}
/** 502/501: the host agent failed the operation. */
export class AgentError extends WrennError {
  override name = "AgentError";
}
/** 500: the control plane failed. */
export class InternalError extends WrennError {
  override name = "InternalError";
}
/** The operation did not finish before its deadline (client side, or a command's `timeoutSec`). */
export class TimeoutError extends WrennError {
  override name = "TimeoutError";
  constructor(message: string, options: WrennErrorOptions = {}) {
    super("timeout", message, options);
  }
}
/** The caller aborted the operation through its `AbortSignal`. */
export class AbortError extends WrennError {
  override name = "AbortError";
  constructor(message: string, options: WrennErrorOptions = {}) {
    super("canceled", message, options);
  }
}
/** The control plane could not be reached at all (refused, DNS, reset). */
export class ConnectionError extends WrennError {
  override name = "ConnectionError";
  constructor(message: string, options: WrennErrorOptions = {}) {
    super("connection_error", message, options);
  }
}

type ErrorClass = new (code: string, message: string, options?: WrennErrorOptions) => WrennError;

/** The one table from API error code to error class. Codes not listed fall back on the HTTP status. */
export const ERROR_CLASSES: Readonly<Record<string, ErrorClass>> = {
  invalid_request: InvalidRequestError,
  invalid_token: InvalidRequestError,
  already_activated: InvalidRequestError,
  last_login_method: InvalidRequestError,
  unauthorized: AuthenticationError,
  wrong_password: AuthenticationError,
  forbidden: ForbiddenError,
  no_team: ForbiddenError,
  account_deactivated: ForbiddenError,
  account_not_activated: ForbiddenError,
  account_disabled: ForbiddenError,
  not_found: NotFoundError,
  provider_not_found: NotFoundError,
  conflict: ConflictError,
  email_taken: ConflictError,
  signup_cooldown: ConflictError,
  name_reserved: ConflictError,
  template_name_taken: ConflictError,
  owns_team_with_members: ConflictError,
  invalid_state: InvalidStateError,
  has_active_sandboxes: HostHasCapsulesError,
  host_has_sandboxes: HostHasCapsulesError,
  host_has_capsules: HostHasCapsulesError,
  too_large: TooLargeError,
  host_unavailable: HostUnavailableError,
  no_hosts_available: HostUnavailableError,
  agent_error: AgentError,
  internal_error: InternalError,
  internal: InternalError,
  db_error: InternalError,
  read_error: InternalError,
  build_error: InternalError,
};

const STATUS_CLASSES: Readonly<Record<number, ErrorClass>> = {
  400: InvalidRequestError,
  401: AuthenticationError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: TooLargeError,
  501: AgentError,
  502: AgentError,
  503: HostUnavailableError,
};

/**
 * Builds the error for an HTTP answer with a non-2xx status. `body` is the parsed JSON body when there was one.
 * Accepts the API's `{"error":{code,message,…}}` shape; anything else becomes an error keyed on the status.
 */
export function errorFromBody(status: number, body: unknown): WrennError {
  const inner = (body as { error?: unknown } | null)?.error;
  if (inner && typeof inner === "object") {
    const { code, message, ...details } = inner as Record<string, unknown>;
    const codeText = typeof code === "string" && code ? code : codeForStatus(status);
    const Cls = ERROR_CLASSES[codeText] ?? STATUS_CLASSES[status] ?? (status >= 500 ? InternalError : WrennError);
    return new Cls(codeText, typeof message === "string" ? message : `HTTP ${status}`, { status, details });
  }
  const Cls = STATUS_CLASSES[status] ?? (status >= 500 ? InternalError : WrennError);
  const text = typeof body === "string" && body ? body.slice(0, 500) : `HTTP ${status}`;
  return new Cls(codeForStatus(status), text, { status });
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "too_large";
    case 502:
      return "agent_error";
    case 503:
      return "host_unavailable";
    default:
      return status >= 500 ? "internal_error" : "unknown";
  }
}

/**
 * Builds the error for an `{"type":"error","data",code?}` WebSocket message. With a code the table decides; the
 * streams' plain error texts (no code) become `stream_error`.
 */
export function errorFromStream(message: string, code?: unknown): WrennError {
  if (typeof code === "string" && code) {
    const Cls = ERROR_CLASSES[code] ?? WrennError;
    const status = Number(Object.entries(STATUS_CLASSES).find(([, C]) => C === Cls)?.[0] ?? 0);
    return new Cls(code, message, { status: code === "invalid_state" ? 409 : status });
  }
  return new WrennError("stream_error", message);
}
