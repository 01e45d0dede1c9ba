import type { LeanHandler } from "@wrenn/connect-unary";
import type { EnvdState } from "../state.ts";
import { answerHealth } from "./health.ts";
import type { FastPath } from "./lean-h1.ts";

/** What the fast path answers with. */
export interface FastPathDeps {
  /** The lean Connect handlers (binary and JSON calls), tried in order. */
  lean: readonly LeanHandler[];
  state: EnvdState;
  /** As `GET /health` on the router: the first call after a restore drops the connections from before it. */
  recoverIfRestored: (current: unknown) => void;
}

/**
 * The requests envd's HTTP/1.1 fast path answers (`lean-h1.ts`): `GET /health` and the Connect calls of a
 * caller with the right token. Anything else, a refusal included, is left to the router, so errors and the log
 * lines about them come from one place.
 */
export function createFastPath(deps: FastPathDeps): FastPath {
  const { lean, state } = deps;
  return (req, res, socket) => {
    if (req.url === "/health" && req.method === "GET") {
      deps.recoverIfRestored(socket);
      answerHealth(res);
      return true;
    }
    if (!state.isAuthorized(req.headers["x-access-token"] as string | undefined)) return false;
    for (const handle of lean) if (handle(req, res)) return true;
    return false;
  };
}
