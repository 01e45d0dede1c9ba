/**
 * Puts the port proxy in front of the app's router. Host-based routing has to see a request before Fastify does
 * (an `onRequest` hook runs after routing, and an Upgrade for a guest's WebSocket must not reach
 * @fastify/websocket), so the server's 'request' and 'upgrade' listeners are wrapped: proxy hosts go to the
 * proxy, everything else to the listeners that were there.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { PortProxy } from "./port-proxy.ts";

type Listener = (...args: unknown[]) => void;

/**
 * Wraps `server`'s listeners once every plugin has added its own (call it from an `onReady` hook). Idempotent.
 */
export function installPortProxy(server: Server, proxy: PortProxy): void {
  if ((server as { isPortProxyInstalled?: boolean }).isPortProxyInstalled) return;
  (server as { isPortProxyInstalled?: boolean }).isPortProxyInstalled = true;
  const routeRequests = takeListeners(server, "request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!proxy.handleRequest(req, res)) routeRequests(req, res);
  });
  const hadUpgradeListeners = server.listenerCount("upgrade") > 0;
  const routeUpgrades = takeListeners(server, "upgrade");
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (proxy.handleUpgrade(req, socket, head)) return;
    // Without a listener Node closes an Upgrade request's socket; keep that behaviour for non-proxy hosts.
    if (hadUpgradeListeners) routeUpgrades(req, socket, head);
    else socket.destroy();
  });
}

/** Removes `event`'s listeners from `server` and returns a function that calls them in order. */
function takeListeners(server: Server, event: string): (...args: unknown[]) => void {
  const listeners = server.listeners(event) as Listener[];
  server.removeAllListeners(event);
  return (...args) => {
    for (const l of listeners) l.apply(server, args);
  };
}
