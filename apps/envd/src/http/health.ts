import { ENVD_VERSION } from "../version.ts";
import { type RouteHandler, sendJson } from "./respond.ts";

/** GET /health → `{"version":"…"}`. Runs the post-restore recovery first when a snapshot was prepared. */
export function createHealthRoute(deps: { recoverIfRestored: (current: unknown) => void }): RouteHandler {
  return async ({ req, res }) => {
    deps.recoverIfRestored(req.socket);
    sendJson(res, 200, { version: ENVD_VERSION });
  };
}
