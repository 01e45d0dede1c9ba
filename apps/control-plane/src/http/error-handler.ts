import { ConnectError } from "@connectrpc/connect";
import type { FastifyError, FastifyInstance } from "fastify";
import { agentErrorToWrenn } from "../agents/connect-errors.ts";
import { type ErrorCode, WrennError } from "../errors.ts";

/** Normalises anything a handler throws into a WrennError (validation, body limits, agent errors). */
export function toWrennError(err: unknown): WrennError {
  if (err instanceof WrennError) return err;
  if (err instanceof ConnectError) return agentErrorToWrenn(err);
  const fe = err as Partial<FastifyError> & { validation?: unknown; part?: unknown };
  if (fe?.validation) {
    const where = fe.validationContext ? `${fe.validationContext}: ` : "";
    return new WrennError("invalid_request", 400, `${where}${firstIssue(fe.message ?? "invalid request")}`);
  }
  if (fe?.code === "FST_ERR_CTP_BODY_TOO_LARGE" || fe?.code === "FST_REQ_FILE_TOO_LARGE" || fe?.statusCode === 413) {
    return new WrennError("too_large", 413, fe.message ?? "request body too large");
  }
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorCode =
      fe.statusCode === 404 ? "not_found" : fe.statusCode === 401 ? "unauthorized" : "invalid_request";
    const status = fe.statusCode === 404 || fe.statusCode === 401 ? fe.statusCode : 400;
    return new WrennError(code, status, fe.message ?? "invalid request");
  }
  return WrennError.from(err);
}

function firstIssue(message: string): string {
  // zod messages arrive as a JSON array of issues; show the first one readably.
  try {
    const issues = JSON.parse(message) as Array<{ path?: unknown[]; message?: string }>;
    if (Array.isArray(issues) && issues[0]) {
      const p = issues[0].path?.length ? `${issues[0].path.join(".")}: ` : "";
      return `${p}${issues[0].message ?? "invalid"}`;
    }
  } catch {
    /* not JSON: use as is */
  }
  return message;
}

/** Renders every error as `{"error":{"code","message"}}`; 5xx details stay in the log. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const we = toWrennError(err);
    const teamId = req.auth?.teamId;
    if (we.status >= 500) req.log.error({ err, cause: we.cause, teamId }, "request failed");
    else req.log.warn({ code: we.code, reason: we.message, teamId }, "request rejected");
    const message = we.status >= 500 && we.code === "internal_error" ? "internal server error" : we.message;
    reply.status(we.status === 499 ? 400 : we.status).send({ error: { code: we.code, message, ...we.details } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .status(404)
      .send({ error: { code: "not_found", message: `route ${req.method} ${req.url.split("?")[0]} not found` } });
  });
}
