/**
 * The port proxy's agent side: `/proxy/{capsuleId}/{port}/{path…}` on the RPC listener, authenticated with the agent
 * key like the RPCs, forwarded to TCP `port` in the capsule through a QEMU port forward added on first use
 * (`Vm.forwardPort`). Bodies stream both ways; Upgrade requests (WebSocket) are spliced byte for byte.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import {
  CLIENT_AUTHORIZATION_HEADER,
  endToEndHeaders,
  errorBody,
  spliceUpgrade,
  upgradeRequestHead,
  writeSocketError,
} from "@wrenn/http-proxy";
import type { Capsule } from "../capsules/capsule.ts";
import { AgentError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isAuthorized } from "../rpc/auth.ts";
import { isProxyPath, type ProxyTarget, parseProxyPath } from "./proxy-path.ts";

/** Dependencies of the proxy. */
export interface PortProxyDeps {
  /** The capsule manager's `get`: the running capsule, or not_found / invalid_state; `touch` counts activity. */
  readonly getCapsule: (capsuleId: string, touch: boolean) => Capsule;
  /** When set, requests must carry `Authorization: Bearer <agentKey>`. */
  readonly agentKey: string | undefined;
  readonly log: Logger;
}

/** The proxy's two entry points; each returns false for URLs that are not on the proxy route. */
export interface PortProxy {
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/** Tries per bodiless request: the guest server may be starting, and a refused guest connection costs little. */
const ATTEMPTS = 3;
const RETRY_STEP_MS = 100;
/** How long a spliced Upgrade may wait for the guest server's first byte. */
const UPGRADE_ANSWER_TIMEOUT_MS = 30_000;

/** A failure answered to the caller as `{"error":{"code","message"}}`. */
class ProxyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Creates the proxy. */
export function createPortProxy(deps: PortProxyDeps): PortProxy {
  const log = deps.log.child({ component: "port-proxy" });

  /** Checks the key, finds the capsule and its forwarded port. */
  async function resolve(req: IncomingMessage): Promise<ProxyTarget & { hostPort: number }> {
    if (deps.agentKey && !isAuthorized(req.headers.authorization ?? null, deps.agentKey)) {
      throw new ProxyError(401, "unauthorized", "missing or wrong Authorization: Bearer <agent key>");
    }
    const target = parseProxyPath(req.url ?? "");
    if (!target) throw new ProxyError(400, "invalid_request", "expected /proxy/{capsule id}/{port 1-65535}/{path}");
    let capsule: Capsule;
    try {
      capsule = deps.getCapsule(target.capsuleId, true);
    } catch (err) {
      const e = AgentError.from(err);
      if (e.code === "not_found") throw new ProxyError(404, "not_found", e.message);
      if (e.code === "invalid_state") throw new ProxyError(409, "invalid_state", e.message);
      throw e;
    }
    return { ...target, hostPort: await capsule.vm.forwardPort(target.port) };
  }

  /** Headers for the guest: end-to-end ones, with the user's own Authorization restored. */
  function guestHeaders(req: IncomingMessage) {
    const headers = endToEndHeaders(req.headers, ["authorization", CLIENT_AUTHORIZATION_HEADER]);
    const clientAuth = req.headers[CLIENT_AUTHORIZATION_HEADER];
    if (typeof clientAuth === "string") headers.authorization = clientAuth;
    return headers;
  }

  function unreachable(t: ProxyTarget, err: Error): ProxyError {
    log.warn({ capsuleId: t.capsuleId, port: t.port, err: err.message }, "guest port unreachable");
    return new ProxyError(
      502,
      "agent_error",
      `nothing listens on port ${t.port} in capsule ${t.capsuleId} (${err.message}); start a server bound to 0.0.0.0:${t.port}`,
    );
  }

  function fail(res: ServerResponse, err: unknown): void {
    const e = err instanceof ProxyError ? err : new ProxyError(500, "internal_error", AgentError.from(err).message);
    if (e.status >= 500 && !(err instanceof ProxyError)) log.error({ err }, "port proxy failed");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorBody(e.code, e.message);
    res.writeHead(e.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  /** One attempt: resolves once the response is under way, rejects when the guest gave no response. */
  function forward(req: IncomingMessage, res: ServerResponse, t: ProxyTarget & { hostPort: number }, hasBody: boolean) {
    return new Promise<void>((resolveSent, reject) => {
      const upstream = http.request({
        host: "127.0.0.1",
        port: t.hostPort,
        method: req.method,
        path: t.path,
        headers: guestHeaders(req),
        agent: false,
      });
      const onClientGone = () => {
        if (!res.writableFinished) upstream.destroy();
      };
      res.once("close", onClientGone);
      upstream.once("error", (err) => {
        res.off("close", onClientGone);
        reject(err);
      });
      upstream.once("response", (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.headers));
        answer.pipe(res);
        answer.once("error", () => res.destroy());
        // Errors from here on end the response (it is under way) instead of being retried.
        upstream.removeAllListeners("error");
        upstream.on("error", () => res.destroy());
        resolveSent();
      });
      if (hasBody) req.pipe(upstream);
      else upstream.end();
    });
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let t: ProxyTarget & { hostPort: number };
    try {
      t = await resolve(req);
    } catch (err) {
      fail(res, err);
      return;
    }
    const hasBody =
      req.headers["transfer-encoding"] !== undefined ||
      Number(req.headers["content-length"] ?? 0) > 0 ||
      (req.httpVersionMajor === 2 && req.method !== "GET" && req.method !== "HEAD");
    for (let attempt = 1; ; attempt++) {
      try {
        await forward(req, res, t, hasBody);
        return;
      } catch (err) {
        // A request whose body has started to flow cannot be sent again.
        if (hasBody || attempt >= ATTEMPTS || res.destroyed) {
          fail(res, unreachable(t, err as Error));
          return;
        }
        await new Promise((r) => setTimeout(r, RETRY_STEP_MS * attempt));
      }
    }
  }

  return {
    handleRequest(req, res) {
      if (!isProxyPath(req.url)) return false;
      void serve(req, res);
      return true;
    },
    handleUpgrade(req, socket, head) {
      if (!isProxyPath(req.url)) return false;
      socket.on("error", () => socket.destroy());
      resolve(req).then(
        (t) => {
          const clientAuth = req.headers[CLIENT_AUTHORIZATION_HEADER];
          spliceUpgrade({
            client: socket,
            head,
            host: "127.0.0.1",
            port: t.hostPort,
            requestHead: upgradeRequestHead(
              req.method ?? "GET",
              t.path,
              req.rawHeaders,
              ["authorization", CLIENT_AUTHORIZATION_HEADER],
              typeof clientAuth === "string" ? { Authorization: clientAuth } : {},
            ),
            answerTimeoutMs: UPGRADE_ANSWER_TIMEOUT_MS,
            onUnanswered: (err) => {
              const e = unreachable(t, err);
              writeSocketError(socket, e.status, e.code, e.message);
            },
          });
        },
        (err) => {
          const e =
            err instanceof ProxyError ? err : new ProxyError(500, "internal_error", AgentError.from(err).message);
          writeSocketError(socket, e.status, e.code, e.message);
        },
      );
      return true;
    },
  };
}
