/**
 * The agent's client of one guest's envd: Connect (process, filesystem) over a few pooled HTTP/1.1 connections and
 * one HTTP/2 (h2c) connection to the forwarded loopback port (lane-transport.ts says which call takes which), plus
 * envd's plain HTTP endpoints over HTTP/1.1. Owns its connections; `close()` drops every one (a template must hold
 * no open connection when it is snapshotted).
 *
 * Why not only HTTP/1.1: QEMU's user-networking port forward listens with a backlog of 1 (libslirp), so a burst of
 * new connections (20-30 concurrent calls on a cold HTTP/1.1 pool) lost some to `ECONNRESET` (measured inside a
 * VM, tests/e2e/envd-in-vm.test.ts). The multiplexed connection carries what the few pooled ones cannot.
 */
import { Agent } from "node:http";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { process as envdProcess, filesystem } from "@wrenn/protocol";
import { AgentError } from "../errors.ts";
import { httpRequest } from "./http-request.ts";
import { Lanes, laneTransport } from "./lane-transport.ts";

/** Body of POST /init (docs/architecture.md "Host agent ↔ envd"). */
export interface EnvdInit {
  readonly accessToken: string;
  readonly envVars: Record<string, string>;
  readonly defaultUser?: string;
  /** Host time in unix ms: the restored guest clock is as old as its template. Omitted: clock left alone. */
  readonly timestamp?: number;
  /** ≥32 random bytes, base64: reseeds the guest CRNG so clones never share random bytes. Omitted: no reseed. */
  readonly rngSeed?: string;
  /** Omitted on resume (unchanged; each setting costs envd a process start, slow under TCG). */
  readonly hostname?: string;
  /** New MAC for a clone; omitted on resume (the capsule keeps its own). */
  readonly macAddress?: string;
}

/** HTTP/1.1 connections to one guest's envd that the Connect calls keep open (lane-transport.ts). */
const LANE_CONNECTIONS = 4;

/** Connect client + HTTP helpers for the envd at 127.0.0.1:`port`. */
export class EnvdClient {
  readonly port: number;
  readonly baseUrl: string;
  /** envd's process service. Unary calls take a pooled HTTP/1.1 connection when one is free; streams HTTP/2. */
  readonly process: Client<typeof envdProcess.Process>;
  /**
   * The process service for streams read to their end (a foreground command): these may take a pooled HTTP/1.1
   * connection as well. A caller must read the stream to its end or abort the call's signal: a `break` alone
   * leaves the connection taken (see `streamsOverH1` in lane-transport.ts).
   */
  readonly foreground: Client<typeof envdProcess.Process>;
  readonly filesystem: Client<typeof filesystem.Filesystem>;
  #token: string | undefined;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  // Idle sockets close after 60 s, before envd's own 65 s keep-alive timeout: the client closing first means no call
  // is ever written onto a socket the guest is closing at that moment. (A busy socket's timeout only emits an
  // event nobody acts on.)
  readonly #laneAgent = new Agent({ keepAlive: true, maxSockets: LANE_CONNECTIONS, timeout: 60_000 });
  readonly #sessions: Http2SessionManager;

  constructor(port: number, accessToken?: string) {
    this.port = port;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.#token = accessToken;
    const auth: Interceptor = (next) => (req) => {
      if (this.#token) req.header.set("X-Access-Token", this.#token);
      return next(req);
    };
    // Per-stream window 4 MiB (Node's default is 64 KiB): process output streams at full speed.
    this.#sessions = new Http2SessionManager(this.baseUrl, {}, { settings: { initialWindowSize: 4 * 1024 * 1024 } });
    // No gzip on either: over this local link compression only costs CPU on both sides (see envd's app.ts).
    // Binary protobuf, not Connect's default JSON: less guest work per message (no base64 of process output), and
    // envd answers binary unary calls on its lean path (packages/connect-unary).
    const h2 = createConnectTransport({
      baseUrl: this.baseUrl,
      httpVersion: "2",
      useBinaryFormat: true,
      sessionManager: this.#sessions,
      acceptCompression: [],
      interceptors: [auth],
    });
    const h1 = createConnectTransport({
      baseUrl: this.baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
      nodeOptions: { agent: this.#laneAgent },
      acceptCompression: [],
      interceptors: [auth],
    });
    const lane = { h1, h2, lanes: new Lanes(this.#laneAgent, LANE_CONNECTIONS) };
    const calls = laneTransport({ ...lane, streamsOverH1: false });
    this.process = createClient(envdProcess.Process, calls);
    this.filesystem = createClient(filesystem.Filesystem, calls);
    this.foreground = createClient(envdProcess.Process, laneTransport({ ...lane, streamsOverH1: true }));
  }

  /** GET /health: envd's version, or a rejection when it does not answer in time. */
  async health(timeoutMs: number): Promise<{ version: string }> {
    // A fresh connection each time: a poll must not pile up on a socket the guest never answered.
    const res = await httpRequest(`${this.baseUrl}/health`, { method: "GET", timeoutMs });
    if (res.status !== 200) throw new AgentError("unavailable", `envd /health answered ${res.status}`);
    try {
      return JSON.parse(res.body.toString("utf8")) as { version: string };
    } catch {
      return { version: "unknown" };
    }
  }

  /**
   * Polls /health every 100 ms until it answers or `timeoutMs` passes. `isAlive` is checked each round so a VM
   * that died (kernel panic, QEMU crash) fails at once instead of at the deadline.
   */
  async waitReady(timeoutMs: number, isAlive: () => boolean, signal?: AbortSignal): Promise<{ version: string }> {
    const deadline = Date.now() + timeoutMs;
    let lastError = "no answer yet";
    while (Date.now() < deadline) {
      if (signal?.aborted) throw new AgentError("canceled", "wait for envd canceled");
      if (!isAlive()) throw new AgentError("vm_not_ready", "the VM exited while the guest was starting");
      try {
        return await this.health(Math.min(2000, Math.max(100, deadline - Date.now())));
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new AgentError("vm_not_ready", `envd did not answer /health within ${timeoutMs} ms (${lastError})`);
  }

  /**
   * `init` as the first request to a guest that is still waking up (a resume): retried on connection errors and
   * unanswered attempts until `timeoutMs`, never on an answer envd gave. Saves the /health round trip, which under
   * TCG costs a second pass through freshly re-translated code. Only for a body that keeps the guest's token, so a
   * late duplicate of an attempt changes nothing.
   */
  async initWhenReady(body: () => EnvdInit, timeoutMs: number, isAlive: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!isAlive()) throw new AgentError("vm_not_ready", "the VM exited while the guest was starting");
      try {
        // A fresh body per attempt: its timestamp sets the guest clock.
        return await this.init(body(), Math.min(2000, Math.max(100, deadline - Date.now())), false);
      } catch (err) {
        const e = AgentError.from(err);
        if (e.code === "guest_error") throw e;
        if (Date.now() >= deadline)
          throw new AgentError("vm_not_ready", `envd did not answer /init within ${timeoutMs} ms (${e.message})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * POST /init: sets identity, token, clock and entropy. Later requests carry the new token. `keepAlive` false
   * uses a fresh connection (a retried first request must not wait on a socket the guest never answered).
   */
  async init(body: EnvdInit, timeoutMs: number, keepAlive = true): Promise<void> {
    const res = await httpRequest(`${this.baseUrl}/init`, {
      method: "POST",
      ...(keepAlive ? { agent: this.#agent } : {}),
      headers: { "content-type": "application/json", ...this.#authHeader() },
      body: JSON.stringify(body),
      timeoutMs,
    });
    if (res.status !== 204 && res.status !== 200) {
      // An image whose envd predates /init cannot reseed or re-identify clones: refuse it loudly.
      const hint = res.status === 404 ? " (the image's envd has no /init: rebuild images with `npm run images`)" : "";
      throw new AgentError(
        "guest_error",
        `envd /init answered ${res.status}${hint}: ${res.body.toString("utf8").slice(0, 300)}`,
      );
    }
    this.#token = body.accessToken;
  }

  /** POST /snapshot/prepare, best effort (older envd builds lack it). */
  async prepareSnapshot(timeoutMs: number): Promise<void> {
    await httpRequest(`${this.baseUrl}/snapshot/prepare`, {
      method: "POST",
      agent: this.#agent,
      headers: this.#authHeader(),
      timeoutMs,
    }).catch(() => undefined);
  }

  /** GET /files?path=: the whole file. */
  async readFile(path: string, timeoutMs: number): Promise<Buffer> {
    const res = await httpRequest(`${this.baseUrl}/files?path=${encodeURIComponent(path)}`, {
      method: "GET",
      agent: this.#agent,
      headers: this.#authHeader(),
      timeoutMs,
    });
    if (res.status === 404) throw new AgentError("not_found", `${path} does not exist in the capsule`);
    if (res.status !== 200) throw new AgentError("guest_error", `reading ${path}: envd answered ${res.status}`);
    return res.body;
  }

  /** POST /files?path= as multipart/form-data (field `file`). */
  async writeFile(path: string, content: Uint8Array, timeoutMs: number): Promise<void> {
    const boundary = `wrenn${Math.random().toString(16).slice(2)}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n` +
          "Content-Type: application/octet-stream\r\n\r\n",
      ),
      Buffer.from(content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await httpRequest(`${this.baseUrl}/files?path=${encodeURIComponent(path)}`, {
      method: "POST",
      agent: this.#agent,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, ...this.#authHeader() },
      body,
      timeoutMs,
    });
    if (res.status === 507) throw new AgentError("guest_error", `writing ${path}: the capsule's disk is full`);
    if (res.status >= 300) throw new AgentError("guest_error", `writing ${path}: envd answered ${res.status}`);
  }

  /** Closes all connections for good. */
  close(): void {
    this.#sessions.abort();
    this.#agent.destroy();
    this.#laneAgent.destroy();
  }

  #authHeader(): Record<string, string> {
    return this.#token ? { "X-Access-Token": this.#token } : {};
  }
}
