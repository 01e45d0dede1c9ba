import { ENVD_VERSION } from "../version.ts";
import { type RouteHandler, sendJson } from "./respond.ts";

/** GET /health → `{"version":"…"}`. Runs the post-restore recovery first when a snapshot was prepared. */
export function createHealthRoute(deps: { recoverIfRestored: () => void }): RouteHandler {
  return async ({ res }) => {
    deps.recoverIfRestored();
    sendJson(res, 200, { version: ENVD_VERSION });
  };
}
