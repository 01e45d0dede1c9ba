import type { Services } from "../services/container.ts";
import type { App } from "./types.ts";

/**
 * Where a resource's routes are mounted. The admin capsule routes (`/v1/admin/capsules`) reuse the team capsule
 * handlers under another path prefix and OpenAPI tag; routes that are mounted once ignore it.
 */
export interface RouteMount {
  /** Path prefix, e.g. `/v1/capsules`. */
  base: string;
  /** OpenAPI tags replacing the route's own (default: the route's). */
  tags?: string[];
}

/** One route: registers itself on the scope it is given (auth hooks come from the scope). */
export type Route = (app: App, s: Services, mount?: RouteMount) => void;

/** Registers several routes on one scope, all at `mount` when given. */
export function registerRoutes(app: App, s: Services, routes: Route[], mount?: RouteMount): void {
  for (const r of routes) r(app, s, mount);
}
