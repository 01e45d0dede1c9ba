import type { Services } from "../services/container.ts";
import type { App } from "./types.ts";

/** One route: registers itself on the scope it is given (auth hooks come from the scope). */
export type Route = (app: App, s: Services) => void;

/** Registers several routes on one scope. */
export function registerRoutes(app: App, s: Services, routes: Route[]): void {
  for (const r of routes) r(app, s);
}
