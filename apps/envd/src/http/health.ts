import type { PlainResponse } from "@wrenn/connect-unary";
import { ENVD_VERSION } from "../version.ts";
import type { HttpResponse, RouteHandler } from "./respond.ts";

/** The answer to `GET /health`, the same on every call. */
const HEALTH_BODY = Buffer.from(JSON.stringify({ version: ENVD_VERSION }));

/** Writes `{"version":"…"}`: the one answer of both the router's route and the HTTP/1.1 fast path. */
export function answerHealth(res: PlainResponse | HttpResponse): void {
  const out = res as PlainResponse;
  out.writeHead(200, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": String(HEALTH_BODY.length),
  });
  out.end(HEALTH_BODY);
}

/** GET /health → `{"version":"…"}`. Runs the post-restore recovery first when a snapshot was prepared. */
export function createHealthRoute(deps: { recoverIfRestored: (current: unknown) => void }): RouteHandler {
  return async ({ req, res }) => {
    deps.recoverIfRestored(req.socket);
    answerHealth(res);
  };
}
