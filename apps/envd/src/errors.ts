import { Code, ConnectError } from "@connectrpc/connect";

/** The closed set of envd error codes; each maps to one Connect code and one HTTP status. */
export type EnvdErrorCode =
  | "not_found"
  | "invalid_argument"
  | "already_exists"
  | "permission_denied"
  | "failed_precondition"
  | "unauthenticated"
  | "insufficient_storage"
  | "canceled"
  | "internal_error";

const TABLE: Record<EnvdErrorCode, { connect: Code; status: number }> = {
  not_found: { connect: Code.NotFound, status: 404 },
  invalid_argument: { connect: Code.InvalidArgument, status: 400 },
  already_exists: { connect: Code.AlreadyExists, status: 409 },
  permission_denied: { connect: Code.PermissionDenied, status: 403 },
  failed_precondition: { connect: Code.FailedPrecondition, status: 412 },
  unauthenticated: { connect: Code.Unauthenticated, status: 401 },
  insufficient_storage: { connect: Code.ResourceExhausted, status: 507 },
  canceled: { connect: Code.Canceled, status: 499 },
  internal_error: { connect: Code.Internal, status: 500 },
};

/** errno → code. Decided by `code`, never by message text. */
const ERRNO: Record<string, EnvdErrorCode> = {
  ENOENT: "not_found",
  ENOTDIR: "invalid_argument",
  EISDIR: "invalid_argument",
  EINVAL: "invalid_argument",
  ENAMETOOLONG: "invalid_argument",
  ELOOP: "invalid_argument",
  EEXIST: "already_exists",
  ENOTEMPTY: "failed_precondition",
  EXDEV: "failed_precondition",
  EBUSY: "failed_precondition",
  EACCES: "permission_denied",
  EPERM: "permission_denied",
  EROFS: "permission_denied",
  ENOSPC: "insufficient_storage",
  EDQUOT: "insufficient_storage",
};

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};

/** The one error type of envd. Handlers throw it; the edges render it as Connect or HTTP errors. */
export class EnvdError extends Error {
  readonly code: EnvdErrorCode;
  constructor(code: EnvdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EnvdError";
    this.code = code;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return TABLE[this.code].status;
  }

  /** Keeps an EnvdError, translates errno errors and ConnectErrors, wraps the rest as internal_error. */
  static from(err: unknown, path?: string): EnvdError {
    if (err instanceof EnvdError) return err;
    if (err instanceof ConnectError) {
      const entry = Object.entries(TABLE).find(([, v]) => v.connect === err.code);
      return new EnvdError((entry?.[0] as EnvdErrorCode) ?? "internal_error", err.rawMessage, { cause: err });
    }
    const errno = (err as NodeJS.ErrnoException | null)?.code;
    if (typeof errno === "string" && errno in ERRNO) {
      const words = ERRNO_WORDS[errno] ?? errno.toLowerCase();
      const where = path ?? (err as NodeJS.ErrnoException).path;
      return new EnvdError(ERRNO[errno] as EnvdErrorCode, where ? `${where}: ${words}` : words, { cause: err });
    }
    if ((err as Error | null)?.name === "AbortError")
      return new EnvdError("canceled", "operation canceled", { cause: err });
    return new EnvdError("internal_error", "internal error", { cause: err });
  }

  /** The ConnectError a Connect handler throws for this error. */
  toConnect(): ConnectError {
    return new ConnectError(this.message, TABLE[this.code].connect, undefined, undefined, this);
  }

  /** The JSON body of an HTTP error response. */
  toJson(): { error: { code: EnvdErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Constructors that fix code and wording in one place. */
export const errors = {
  processNotFound: (selector: string) => new EnvdError("not_found", `process ${selector} not found`),
  notADirectory: (path: string) => new EnvdError("invalid_argument", `${path}: not a directory`),
  isADirectory: (path: string) => new EnvdError("invalid_argument", `${path}: is a directory`),
  notFound: (path: string) => new EnvdError("not_found", `${path}: no such file or directory`),
  alreadyExists: (path: string) => new EnvdError("already_exists", `${path}: already exists`),
  invalidArgument: (message: string) => new EnvdError("invalid_argument", message),
  failedPrecondition: (message: string) => new EnvdError("failed_precondition", message),
  unknownUser: (name: string) => new EnvdError("invalid_argument", `unknown user ${JSON.stringify(name)}`),
  unauthenticated: () => new EnvdError("unauthenticated", "missing or wrong X-Access-Token"),
  watcherNotFound: (id: string) => new EnvdError("not_found", `watcher ${id} not found`),
};

/** Runs `fn` and rethrows anything it throws as a ConnectError with the right code. */
export async function asConnect<T>(fn: () => Promise<T>, path?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw EnvdError.from(err, path).toConnect();
  }
}
