import type { EnvdState } from "../state.ts";
import { type RouteHandler, sendJson } from "./respond.ts";

/** GET /envs: the default environment set through /init. */
export function createEnvsRoute(deps: { state: EnvdState }): RouteHandler {
  return async ({ res }) => sendJson(res, 200, Object.fromEntries(deps.state.envVars));
}
