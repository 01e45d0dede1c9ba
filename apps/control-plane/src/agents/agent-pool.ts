import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { leanUnaryTransport } from "@wrenn/connect-unary";
import { hostagent } from "@wrenn/protocol";

/** What the pool needs to reach one host's agent. */
export interface AgentTarget {
  id: string;
  /** `host:port` the agent registered. */
  address: string;
  /** Sent as `Authorization: Bearer <agent_key>` on every RPC. */
  agentKey: string | null;
}

/** A Connect client of the host agent service. */
export type AgentClient = Client<typeof hostagent.HostAgentService>;

/** Builds a transport for one target; tests pass an in-memory router transport. */
export type TransportFactory = (target: AgentTarget) => { transport: Transport; close?: () => void };

/**
 * Default: Connect over h2c to `http://<address>`, one multiplexed HTTP/2 session per host. Unary calls (exec,
 * process list, file reads, lifecycle) take the lean Connect path of `@wrenn/connect-unary`, which saves ~1 ms of
 * client work per call; streams use connect-es on the same session.
 */
export const h2cTransport: TransportFactory = (target) => {
  const baseUrl = `http://${target.address}`;
  const sessionManager = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 60_000, pingIntervalMs: 15_000 });
  const auth: Record<string, string> = target.agentKey ? { authorization: `Bearer ${target.agentKey}` } : {};
  const streams = createConnectTransport({
    httpVersion: "2",
    baseUrl,
    sessionManager,
    useBinaryFormat: true,
    // No gzip of exec output and file chunks: it costs more CPU on both ends than the network saves.
    acceptCompression: [],
    interceptors: [
      (next) => (req) => {
        for (const [name, value] of Object.entries(auth)) req.header.set(name, value);
        return next(req);
      },
    ],
  });
  const transport = leanUnaryTransport({ sessionManager, streams, headers: () => auth });
  return { transport, close: () => sessionManager.abort() };
};

/** Caches one client per host; re-creates it when the host's address or key changes. */
export class AgentPool {
  private readonly entries = new Map<string, { key: string; client: AgentClient; close?: () => void }>();
  constructor(private readonly factory: TransportFactory = h2cTransport) {}

  /** The client for a host. */
  client(target: AgentTarget): AgentClient {
    const key = `${target.address}|${target.agentKey ?? ""}`;
    const e = this.entries.get(target.id);
    if (e && e.key === key) return e.client;
    e?.close?.();
    const { transport, close } = this.factory(target);
    const client = createClient(hostagent.HostAgentService, transport);
    this.entries.set(target.id, { key, client, close });
    return client;
  }

  /** Drops a host's client (host deleted or re-registered). */
  evict(hostId: string): void {
    this.entries.get(hostId)?.close?.();
    this.entries.delete(hostId);
  }

  /** Closes every session. */
  close(): void {
    for (const id of [...this.entries.keys()]) this.evict(id);
  }
}
