/**
 * A Connect transport to one guest's envd that sends each call over a pooled HTTP/1.1 connection when one is free,
 * and over the guest's one HTTP/2 connection otherwise.
 *
 * Why HTTP/1.1 first: under TCG every byte of guest code is emulated, and envd answers a call over HTTP/1.1 with
 * less guest work than over HTTP/2 (Node's HTTP/2 stream machinery runs in the guest's interpreter). Measured on a
 * 2-core TCG host (bench/cp-exec-overhead.ts): the agent's share of a process list 6.3 → 4.6 ms, the overhead of
 * control plane + agent on it 10.2 → 6.2 ms.
 *
 * Why not HTTP/1.1 alone: QEMU's user-network port forward listens with a backlog of 1 (libslirp), so a burst of
 * new connections loses some to `ECONNRESET`. New HTTP/1.1 connections are therefore opened one at a time and never
 * more than `maxConnections`; a call that finds none free rides the multiplexed HTTP/2 connection instead of
 * waiting or opening another.
 */
import type { Agent } from "node:http";
import type { Transport } from "@connectrpc/connect";

/** Options of the lane transport. */
export interface LaneTransportOptions {
  /** Connect over HTTP/1.1 through `agent`. */
  readonly h1: Transport;
  /** Connect over the guest's HTTP/2 connection. */
  readonly h2: Transport;
  /** Which way each call goes; shared by every transport over the same pool. */
  readonly lanes: Lanes;
  /**
   * Whether server streams may take an HTTP/1.1 connection. Only for callers that read a stream to its end or
   * abort its signal (a foreground command): the connection counts as taken until one of the two happens, and
   * Connect's iterables give no other sign (they hide `return()`, so a `break` goes unnoticed). Streams a caller
   * hangs up on mid-way would also cost a connection each, so they stay on HTTP/2 otherwise.
   */
  readonly streamsOverH1: boolean;
}

/** Sockets the pool holds, busy or idle (one origin per pool), and how many of them have connected. */
function poolSockets(agent: Agent): { all: number; connected: number } {
  let all = 0;
  let connected = 0;
  for (const lists of [agent.sockets, agent.freeSockets]) {
    for (const list of Object.values(lists)) {
      for (const socket of list ?? []) {
        all++;
        if (!socket.connecting) connected++;
      }
    }
  }
  return { all, connected };
}

/**
 * Which way calls go, from the state of the HTTP/1.1 keep-alive pool (used by these calls alone: its socket counts
 * are the lanes' state).
 */
export class Lanes {
  #inFlight = 0;
  /** The call opening a connection, and how many were connected when it began; undefined when none is. */
  #opening: { by: object; connectedBefore: number } | undefined;

  /** `maxConnections`: HTTP/1.1 connections kept at most (the pool's `maxSockets` should be the same). */
  constructor(
    private readonly agent: Agent,
    private readonly maxConnections: number,
  ) {}

  /**
   * A release function when the call may use HTTP/1.1, undefined when it goes over HTTP/2. The release must run
   * once the call has finished with its connection.
   */
  take(): (() => void) | undefined {
    const { all, connected } = poolSockets(this.agent);
    // The connection being opened is up: another may be opened now.
    if (this.#opening && connected > this.#opening.connectedBefore) this.#opening = undefined;
    const call = {};
    if (this.#inFlight >= all) {
      // Every connection is taken: open one more, unless one is being opened or the pool is full.
      if (this.#opening || all >= this.maxConnections) return undefined;
      this.#opening = { by: call, connectedBefore: connected };
    }
    this.#inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      // An opener that ends without its connection coming up (refused, cut) must not block the next one.
      if (this.#opening?.by === call) this.#opening = undefined;
    };
  }

  /** Calls on HTTP/1.1 now (for tests and diagnostics). */
  get inFlight(): number {
    return this.#inFlight;
  }
}

/** Passes a stream's messages through and releases its lane when the iteration ends, however it ends. */
async function* releasing<T>(messages: AsyncIterable<T>, release: () => void): AsyncGenerator<T> {
  try {
    yield* messages;
  } finally {
    release();
  }
}

/** The transport (see the file comment). */
export function laneTransport(o: LaneTransportOptions): Transport {
  const { lanes } = o;
  return {
    unary(method, signal, timeoutMs, header, input, contextValues) {
      const release = lanes.take();
      if (!release) return o.h2.unary(method, signal, timeoutMs, header, input, contextValues);
      return o.h1.unary(method, signal, timeoutMs, header, input, contextValues).finally(release);
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const releaseLane = o.streamsOverH1 && method.methodKind === "server_streaming" ? lanes.take() : undefined;
      if (!releaseLane) return o.h2.stream(method, signal, timeoutMs, header, input, contextValues);
      const release = () => {
        signal?.removeEventListener("abort", release);
        releaseLane();
      };
      signal?.addEventListener("abort", release, { once: true });
      try {
        const res = await o.h1.stream(method, signal, timeoutMs, header, input, contextValues);
        return { ...res, message: releasing(res.message, release) };
      } catch (err) {
        release();
        throw err;
      }
    },
  };
}
