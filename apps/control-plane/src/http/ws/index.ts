import type { FastifyRequest } from "fastify";
import type { AuthContext } from "../../auth/auth-context.ts";
import type { Services } from "../../services/container.ts";
import { credentialsFromHeaders } from "../auth-hooks.ts";
import type { App } from "../types.ts";
import { execStreamRoute } from "./exec-stream.ts";
import { processAttachRoute } from "./process-attach.ts";
import { ptyRoute } from "./pty.ts";
import { TEAM_WS, type WsMount } from "./ws-session.ts";

/**
 * The three capsule WebSockets. Header credentials are checked before the upgrade (a bad key is
 * an HTTP 401); without headers the socket opens and the first message must authenticate.
 * At an admin mount headers are not read: the first message always authenticates (reference §1.3).
 */
export async function websocketRoutes(app: App, opts: { s: Services; mount?: WsMount }) {
  const mount = opts.mount ?? TEAM_WS;
  if (!mount.admin) {
    app.addHook("onRequest", async (req: FastifyRequest & { wsAuth?: AuthContext }) => {
      req.wsAuth = await credentialsFromHeaders(req, opts.s.authn, true);
    });
  }
  execStreamRoute(app, opts.s, mount);
  ptyRoute(app, opts.s, mount);
  processAttachRoute(app, opts.s, mount);
}
