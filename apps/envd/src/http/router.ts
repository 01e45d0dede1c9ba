import type { Logger } from "../logger.ts";
import type { EnvdState } from "../state.ts";
import { type HttpRequest, type HttpResponse, type RouteHandler, sendError, sendJson } from "./respond.ts";

/** Plain routes keyed by "METHOD /path". */
export type RouteTable = Record<string, RouteHandler>;

/** Dependencies of `createRequestHandler`. */
export interface RouterDeps {
  routes: RouteTable;
  /** Handles everything that is not a plain route (the Connect services). */
  connect: (req: HttpRequest, res: HttpResponse) => void;
  state: EnvdState;
  log: Logger;
}

/** Paths that never need the access token. */
const PUBLIC = new Set(["GET /health", "HEAD /health"]);

/**
 * One handler for both HTTP versions: checks the access token, dispatches plain routes, hands the rest
 * to Connect. A throwing route renders an error body; nothing a request does can crash envd.
 */
export function createRequestHandler(deps: RouterDeps): (req: HttpRequest, res: HttpResponse) => void {
  const { routes, state, log } = deps;
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://envd");
    const key = `${req.method} ${url.pathname}`;
    const route = routes[key];
    if (!PUBLIC.has(key) && !state.isAuthorized(headerOf(req, "x-access-token"))) {
      log.warn({ method: req.method, path: url.pathname }, "request without a valid access token");
      // Connect clients read `{"code","message"}` on a non-200 answer; plain HTTP clients read `{"error":{…}}`.
      const isPlain = route !== undefined || url.pathname === "/files";
      sendJson(
        res,
        401,
        isPlain
          ? { error: { code: "unauthenticated", message: "missing or wrong X-Access-Token" } }
          : { code: "unauthenticated", message: "missing or wrong X-Access-Token" },
      );
      return;
    }
    if (!route) {
      if (routes[`GET ${url.pathname}`] || routes[`POST ${url.pathname}`]) {
        sendJson(res, 405, { error: { code: "invalid_argument", message: `method ${req.method} not allowed` } });
        return;
      }
      deps.connect(req, res);
      return;
    }
    route({ req, res, url, log }).catch((err: unknown) => sendError(res, err, log));
  };
}

/** A request header as one string (first value when repeated). */
export function headerOf(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
