import { ENVD_VERSION } from "../version.ts";
import { type RouteHandler, sendJson } from "./respond.ts";

/** The answer to `GET /health`, the same on every call. */
export const HEALTH_BODY = Buffer.from(JSON.stringify({ version: ENVD_VERSION }));

/** GET /health → `{"version":"…"}`. Runs the post-restore recovery first when a snapshot was prepared. */
export function createHealthRoute(deps: { recoverIfRestored: (current: unknown) => void }): RouteHandler {
  return async ({ req, res }) => {
    deps.recoverIfRestored(req.socket);
    sendJson(res, 200, { version: ENVD_VERSION });
  };
}
