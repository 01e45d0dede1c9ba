import type { FastifyRequest } from "fastify";
import type { AuthContext } from "../../auth/auth-context.ts";
import type { Services } from "../../services/container.ts";
import { credentialsFromHeaders } from "../auth-hooks.ts";
import type { App } from "../types.ts";
import { execStreamRoute } from "./exec-stream.ts";
import { processAttachRoute } from "./process-attach.ts";
import { ptyRoute } from "./pty.ts";

/**
 * The three capsule WebSockets. Header credentials are checked before the upgrade (a bad key is
 * an HTTP 401); without headers the socket opens and the first message must authenticate.
 */
export async function websocketRoutes(app: App, opts: { s: Services }) {
  app.addHook("onRequest", async (req: FastifyRequest & { wsAuth?: AuthContext }) => {
    req.wsAuth = await credentialsFromHeaders(req, opts.s.authn, true);
  });
  execStreamRoute(app, opts.s);
  ptyRoute(app, opts.s);
  processAttachRoute(app, opts.s);
}
