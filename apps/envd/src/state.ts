import { createHash, timingSafeEqual } from "node:crypto";

/**
 * What the host told envd through POST /init: the access token (kept only as a SHA-256 digest),
 * default user, working directory and environment. One instance per envd, passed to every handler.
 */
export class EnvdState {
  private tokenDigest: Buffer | undefined;
  /** Environment every new process gets (before HOME/USER/… and the request's own envs). */
  readonly envVars = new Map<string, string>();
  /** User processes and files default to; undefined means envd's own user. */
  defaultUser: string | undefined;
  /** Default working directory; undefined means the user's home. */
  defaultWorkdir: string | undefined;
  /** Set by /snapshot/prepare; the next /health runs the post-restore recovery. */
  needsRestore = false;

  /** True once an access token was set. */
  get hasToken(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** True if no token is set, or `presented` equals it (compared in constant time). */
  isAuthorized(presented: string | null | undefined): boolean {
    if (!this.tokenDigest) return true;
    if (typeof presented !== "string" || presented.length === 0) return false;
    return timingSafeEqual(digest(presented), this.tokenDigest);
  }

  /** Sets (or clears, with "") the access token. Callers check authorization first. */
  setToken(token: string): void {
    this.tokenDigest = token === "" ? undefined : digest(token);
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
