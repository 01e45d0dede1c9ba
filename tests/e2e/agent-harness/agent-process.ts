/**
 * Test harness owning one real wrenn-agent process (node --import tsx apps/host-agent/src/main.ts) on a temp files
 * root, and a Connect client of its HostAgentService over h2c. Every wait has a deadline; `stop()`/`kill()` end it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { hostagent } from "@wrenn/protocol";

/** Repository root (tests run from anywhere). */
export const REPO_ROOT = resolve(import.meta.dirname, "../../..");

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => res(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** Options of one agent process. */
export interface AgentProcessOptions {
  readonly rootDir: string;
  readonly agentKey: string;
  /** Extra environment (AGENT_* variables). */
  readonly env?: Record<string, string>;
  /** File the agent's stdout/stderr go to. */
  readonly logFile: string;
}

/** One agent process. */
export class AgentProcess {
  readonly port: number;
  readonly client: Client<typeof hostagent.HostAgentService>;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  private constructor(child: ChildProcess, port: number, key: string) {
    this.#child = child;
    this.port = port;
    this.#exited = new Promise((r) => child.once("exit", (code) => r(code)));
    const auth: Interceptor = (next) => (req) => {
      req.header.set("Authorization", `Bearer ${key}`);
      return next(req);
    };
    this.client = createClient(
      hostagent.HostAgentService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "2", interceptors: [auth] }),
    );
  }

  /** Starts the agent and waits (up to `timeoutMs`) until it answers GetHostInfo. */
  static async start(o: AgentProcessOptions, timeoutMs = 60_000): Promise<AgentProcess> {
    const port = await freePort();
    const log = openSync(o.logFile, "a");
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "apps/host-agent/src/main.ts")], {
      cwd: REPO_ROOT,
      stdio: ["ignore", log, log],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/root",
        AGENT_FILES_ROOTDIR: o.rootDir,
        AGENT_LISTEN_ADDR: `127.0.0.1:${port}`,
        AGENT_KEY: o.agentKey,
        // These tests were written around 256 MiB capsules (pause and RAM-image sizes, the default a create gets).
        AGENT_DEFAULT_MEMORY_MB: "256",
        LOG_LEVEL: "debug",
        ...o.env,
      },
    });
    closeSync(log);
    const agent = new AgentProcess(child, port, o.agentKey);
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void agent.#exited.then((c) => {
      exitCode = c;
    });
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        throw new Error(`agent exited (${exitCode}) during start: ${(await readFile(o.logFile, "utf8")).slice(-2000)}`);
      }
      try {
        await agent.client.getHostInfo({}, { timeoutMs: 2000 });
        return agent;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await agent.kill();
    throw new Error(`agent did not answer within ${timeoutMs} ms`);
  }

  /** SIGTERM (graceful: capsules keep running) and wait for exit. */
  async stop(timeoutMs = 20_000): Promise<void> {
    await this.#signal("SIGTERM", timeoutMs);
  }

  /** SIGKILL (a crash) and wait for exit. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL", 10_000);
  }

  async #signal(sig: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill(sig);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
