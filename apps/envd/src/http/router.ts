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
    const pathname = pathOf(req.url ?? "/");
    const key = `${req.method} ${pathname}`;
    const route = routes[key];
    if (!PUBLIC.has(key) && !state.isAuthorized(headerOf(req, "x-access-token"))) {
      log.warn({ method: req.method, path: pathname }, "request without a valid access token");
      // Connect clients read `{"code","message"}` on a non-200 answer; plain HTTP clients read `{"error":{…}}`.
      const isPlain = route !== undefined || pathname === "/files";
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
      if (routes[`GET ${pathname}`] || routes[`POST ${pathname}`]) {
        sendJson(res, 405, { error: { code: "invalid_argument", message: `method ${req.method} not allowed` } });
        return;
      }
      deps.connect(req, res);
      return;
    }
    route({ req, res, url: new URL(req.url ?? "/", "http://envd"), log }).catch((err: unknown) =>
      sendError(res, err, log),
    );
  };
}

/**
 * The request's path without its query, as `new URL(...).pathname` gives it. A plain path (every Connect call, most
 * routes) is taken as it is; one with percent-escapes or dot segments goes through URL's normalization. Why: a URL
 * object for every call was ~2% of a unary call's CPU under the interpreter, and Connect calls never need one.
 */
export function pathOf(rawUrl: string): string {
  const q = rawUrl.indexOf("?");
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const hash = path.indexOf("#");
  const plain = hash < 0 ? path : path.slice(0, hash);
  // Anything URL would rewrite: escapes, dot segments, `//`, backslashes, and what it percent-encodes in a path.
  if (plain.startsWith("/") && !/%|\/\.|\/\/|\\|[^\x21-\x7e]|["<>`{}]/.test(plain)) return plain;
  return new URL(rawUrl, "http://envd").pathname;
}

/** A request header as one string (first value when repeated). */
export function headerOf(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
