/** RPC authentication: `Authorization: Bearer <agent_key>`, compared in constant time. */
import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** True when `header` carries exactly `Bearer <key>`. Hashing first makes the comparison length-independent. */
export function isAuthorized(header: string | null, key: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(header ?? ""), digest(`Bearer ${key}`));
}

/** Server interceptor rejecting calls without the key; no-op when no key is configured. */
export function bearerAuth(key: string | undefined): Interceptor {
  return (next) => async (req) => {
    if (key && !isAuthorized(req.header.get("authorization"), key)) {
      throw new ConnectError("missing or wrong Authorization: Bearer <agent key>", Code.Unauthenticated);
    }
    return next(req);
  };
}
