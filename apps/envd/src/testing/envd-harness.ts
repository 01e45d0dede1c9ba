import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { filesystem, process as processPb } from "@wrenn/protocol";
import { createEnvd, type Envd, type EnvdOptions } from "../app.ts";
import { createLogger } from "../logger.ts";

/** Options of `EnvdHarness.start`: envd's own plus the spawner binary (default none: child_process). */
export interface HarnessOptions extends EnvdOptions {
  /** wrenn-spawner binary (see `compileTestSpawner`); undefined starts processes with child_process. */
  spawner?: string;
}

/** Which HTTP version a test client speaks. */
export type HttpVersion = "1.1" | "2";

/**
 * Which Connect encoding a test client uses: binary by default, as the agent does (its unary calls then take envd's
 * lean path); JSON reaches connect-es's own handler.
 */
export type WireFormat = "binary" | "json";

/**
 * A real envd in dev mode on an ephemeral loopback port, with a temp root it owns. Tests create one per
 * file (or per test) and must `close()` it: that kills its processes and removes the root.
 */
export class EnvdHarness {
  private constructor(
    readonly envd: Envd,
    readonly root: string,
    readonly port: number,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<EnvdHarness> {
    const root = await mkdtemp(join(tmpdir(), "envd-test-"));
    const log = createLogger(process.env.ENVD_TEST_LOG_LEVEL ?? "silent");
    const envd = createEnvd(
      { port: 0, host: "127.0.0.1", isDev: true, root, cmd: undefined, logLevel: "silent", spawner: options.spawner },
      log,
      options,
    );
    const port = await envd.server.listen(0, "127.0.0.1");
    return new EnvdHarness(envd, root, port);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private transport(httpVersion: HttpVersion, headers: Record<string, string>, format: WireFormat) {
    return createConnectTransport({
      baseUrl: this.baseUrl,
      httpVersion,
      useBinaryFormat: format === "binary",
      interceptors: [
        (next) => async (req) => {
          for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
          return next(req);
        },
      ],
    });
  }

  /** A Connect client of the process service. */
  processClient(
    httpVersion: HttpVersion = "1.1",
    headers: Record<string, string> = {},
    format: WireFormat = "binary",
  ): Client<typeof processPb.Process> {
    return createClient(processPb.Process, this.transport(httpVersion, headers, format));
  }

  /** A Connect client of the filesystem service. */
  filesystemClient(
    httpVersion: HttpVersion = "1.1",
    headers: Record<string, string> = {},
    format: WireFormat = "binary",
  ): Client<typeof filesystem.Filesystem> {
    return createClient(filesystem.Filesystem, this.transport(httpVersion, headers, format));
  }

  /** Plain HTTP request against envd (HTTP/1.1, undici). */
  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, init);
  }

  async close(): Promise<void> {
    await this.envd.close();
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Runs a Start stream to its end and collects stdout, stderr, pty bytes, the pid and the end event. */
export async function runToEnd(stream: AsyncIterable<processPb.StartResponse | processPb.ConnectResponse>) {
  const out = {
    pid: 0,
    stdout: "",
    stderr: "",
    pty: "",
    order: [] as string[],
    end: undefined as processPb.ProcessEvent_EndEvent | undefined,
  };
  for await (const r of stream) {
    const ev = r.event?.event;
    if (ev?.case === "start") out.pid = ev.value.pid;
    else if (ev?.case === "data") {
      const text = Buffer.from(ev.value.output.value ?? new Uint8Array()).toString("utf8");
      const kind = ev.value.output.case;
      if (kind === "stdout" || kind === "stderr" || kind === "pty") {
        out[kind] += text;
        out.order.push(`${kind}:${text}`);
      }
    } else if (ev?.case === "end") out.end = ev.value;
  }
  return out;
}

/** Polls `check` every 20 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
