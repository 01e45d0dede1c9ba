/**
 * The port proxy's control-plane side: a request whose Host is `{port}-{capsule id}.{domain}` goes, without
 * authentication (the unguessable id is the protection), to the capsule's host agent at
 * `/proxy/{capsule id}/{port}{path}` with the agent key; the agent forwards it into the guest. Bodies stream both
 * ways through a keep-alive connection pool; Upgrade requests (WebSocket) are spliced byte for byte.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import {
  CLIENT_AUTHORIZATION_HEADER,
  endToEndHeaders,
  errorBody,
  spliceUpgrade,
  upgradeRequestHead,
  writeSocketError,
} from "@wrenn/http-proxy";
import type { Logger } from "pino";
import type { AgentTarget } from "../../agents/agent-pool.ts";
import { errors, type WrennError } from "../../errors.ts";
import type { ProxyTargets } from "../../services/proxy-targets.ts";
import { toWrennError } from "../error-handler.ts";
import { agentPath, isValidPort, type ProxyHost, parseProxyHost, stripProxyPrefix } from "./proxy-host.ts";

/** Dependencies of the proxy. */
export interface PortProxyDeps {
  readonly targets: ProxyTargets;
  readonly log: Logger;
}

/** Entry points for the HTTP server's 'request' and 'upgrade' events; each returns false when Host is not a proxy host. */
export interface PortProxy {
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes spliced connections and idle agent connections (the server is shutting down). */
  close(): void;
}

/** How long a spliced Upgrade may wait for the agent's first byte (the agent waits 30 s for the guest). */
const UPGRADE_ANSWER_TIMEOUT_MS = 35_000;

/** Creates the proxy. */
export function createPortProxy(deps: PortProxyDeps): PortProxy {
  const log = deps.log.child({ component: "port-proxy" });
  // Idle connections to agents are closed after 60 s, before the agent's own 65 s keep-alive timeout, so a request
  // never lands on a connection the agent is closing.
  const pool = new http.Agent({ keepAlive: true, timeout: 60_000 });
  const spliced = new Set<Duplex>();

  /** Headers for the agent: end-to-end ones, the agent key, the user's own Authorization kept aside, X-Forwarded-*. */
  function agentHeaders(req: IncomingMessage, target: AgentTarget): OutgoingHttpHeaders {
    const headers = endToEndHeaders(req.headers, ["authorization", CLIENT_AUTHORIZATION_HEADER]);
    if (req.headers.authorization) headers[CLIENT_AUTHORIZATION_HEADER] = req.headers.authorization;
    if (target.agentKey) headers.authorization = `Bearer ${target.agentKey}`;
    Object.assign(headers, forwardedHeaders(req));
    return headers;
  }

  /** The agent's 502: its entry is evicted so the next request looks the capsule up again. */
  function unreachable(p: ProxyHost, target: AgentTarget, err: Error): WrennError {
    deps.targets.evict(p.capsuleId);
    log.warn({ capsuleId: p.capsuleId, hostId: target.id, err: err.message }, "agent unreachable for the port proxy");
    return errors.agentError(502, `proxy error: the host agent of capsule ${p.capsuleId} did not answer`);
  }

  function rejected(err: unknown): WrennError {
    const we = toWrennError(err);
    if (we.status >= 500) log.error({ err }, "port proxy failed");
    return we.status >= 500 && we.code === "internal_error" ? errors.internal() : we;
  }

  function answerError(res: ServerResponse, we: WrennError): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorBody(we.code, we.message);
    res.writeHead(we.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, p: ProxyHost): Promise<void> {
    let target: AgentTarget;
    try {
      if (!isValidPort(p.port)) throw errors.invalidRequest(`port ${p.port} is not between 1 and 65535`);
      target = await deps.targets.resolve(p.capsuleId);
    } catch (err) {
      answerError(res, rejected(err));
      return;
    }
    const { hostname, port } = agentAddress(target.address);
    const upstream = http.request({
      host: hostname,
      port,
      method: req.method,
      path: agentPath(p, req.url ?? "/"),
      headers: agentHeaders(req, target),
      agent: pool,
    });
    let isClientGone = false;
    res.once("close", () => {
      if (res.writableFinished) return;
      isClientGone = true;
      upstream.destroy();
    });
    upstream.on("error", (err) => {
      if (isClientGone) return;
      if (res.headersSent) res.destroy();
      else answerError(res, unreachable(p, target, err));
    });
    upstream.once("response", (answer) => {
      const headers = endToEndHeaders(answer.headers);
      if (typeof headers.location === "string") headers.location = stripProxyPrefix(headers.location, p);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
      answer.once("error", () => res.destroy());
    });
    req.pipe(upstream);
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, p: ProxyHost): void {
    socket.on("error", () => socket.destroy());
    spliced.add(socket);
    socket.once("close", () => spliced.delete(socket));
    const resolving = isValidPort(p.port)
      ? deps.targets.resolve(p.capsuleId)
      : Promise.reject(errors.invalidRequest(`port ${p.port} is not between 1 and 65535`));
    resolving.then(
      (target) => {
        const { hostname, port } = agentAddress(target.address);
        const add: Record<string, string> = { ...forwardedHeaders(req) };
        if (req.headers.authorization) add[CLIENT_AUTHORIZATION_HEADER] = req.headers.authorization;
        if (target.agentKey) add.Authorization = `Bearer ${target.agentKey}`;
        spliceUpgrade({
          client: socket,
          head,
          host: hostname,
          port,
          requestHead: upgradeRequestHead(
            req.method ?? "GET",
            agentPath(p, req.url ?? "/"),
            req.rawHeaders,
            ["authorization", CLIENT_AUTHORIZATION_HEADER, ...Object.keys(add).map((n) => n.toLowerCase())],
            add,
          ),
          answerTimeoutMs: UPGRADE_ANSWER_TIMEOUT_MS,
          onUnanswered: (err) => {
            const we = unreachable(p, target, err);
            writeSocketError(socket, we.status, we.code, we.message);
          },
        });
      },
      (err) => {
        const we = rejected(err);
        writeSocketError(socket, we.status, we.code, we.message);
      },
    );
  }

  return {
    handleRequest(req, res) {
      const p = parseProxyHost(req.headers.host);
      if (!p) return false;
      void serve(req, res, p);
      return true;
    },
    handleUpgrade(req, socket, head) {
      const p = parseProxyHost(req.headers.host);
      if (!p) return false;
      upgrade(req, socket, head, p);
      return true;
    },
    close() {
      for (const s of spliced) s.destroy();
      pool.destroy();
    },
  };
}

/** `X-Forwarded-For/-Host/-Proto` as a reverse proxy adds them (an earlier proxy's values are extended or kept). */
function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const client = req.socket.remoteAddress ?? "";
  const prior = req.headers["x-forwarded-for"];
  return {
    "x-forwarded-for": prior ? `${prior}, ${client}` : client,
    "x-forwarded-host": String(req.headers["x-forwarded-host"] ?? req.headers.host ?? ""),
    "x-forwarded-proto": String(req.headers["x-forwarded-proto"] ?? "http"),
  };
}

/** Host name and port of an agent's registered `host:port` (IPv6 in brackets allowed). */
function agentAddress(address: string): { hostname: string; port: number } {
  const url = new URL(`http://${address}`);
  return { hostname: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || 80 };
}
