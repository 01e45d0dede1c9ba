/** Runs one command in a guest through envd's process.Start stream and collects its output. */
import { create } from "@bufbuild/protobuf";
import { process as envdProcess } from "@wrenn/protocol";
import { AgentError } from "../errors.ts";
import type { EnvdClient } from "./envd-client.ts";

/** What a finished command produced. */
export interface ExecResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
  readonly durationMs: number;
}

/** Options of one command. */
export interface ExecOptions {
  readonly args?: readonly string[];
  readonly envs?: Record<string, string>;
  readonly cwd?: string;
  readonly stdin?: Uint8Array;
  /** Deadline for the whole command; it is killed (SIGKILL) when it passes. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Runs `cmd` and waits for its end. Rejects with `timeout` when the deadline passes. */
export async function execInGuest(envd: EnvdClient, cmd: string, o: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new AgentError("timeout", `command did not finish within ${o.timeoutMs} ms`)),
    o.timeoutMs,
  );
  const onAbort = () => controller.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let pid: number | undefined;
  let ended = false;
  try {
    const stream = envd.foreground.start(
      create(envdProcess.StartRequestSchema, {
        process: { cmd, args: [...(o.args ?? [])], envs: o.envs ?? {}, cwd: o.cwd || undefined },
        stdin: o.stdin !== undefined,
      }),
      { signal: controller.signal },
    );
    const events = stream[Symbol.asyncIterator]();
    for (let next = await events.next(); !next.done; next = await events.next()) {
      const ev = next.value.event?.event;
      if (!ev) continue;
      if (ev.case === "start") {
        pid = ev.value.pid;
        if (o.stdin !== undefined) await sendStdin(envd, pid, o.stdin);
      } else if (ev.case === "data") {
        const out = ev.value.output;
        if (out.case === "stdout" || out.case === "pty") stdout.push(Buffer.from(out.value));
        else if (out.case === "stderr") stderr.push(Buffer.from(out.value));
      } else if (ev.case === "end") {
        // Answer at once, and read the rest of the stream (envd closes it right after this event) in the
        // background: that gives its pooled connection back for the next call (lane-transport.ts) without the
        // answer waiting for one more packet from the guest.
        ended = true;
        void drain(events, controller);
        return {
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
          exitCode: ev.value.exitCode,
          durationMs: Date.now() - started,
        };
      }
    }
    throw new AgentError("guest_error", "envd closed the process stream before the command ended");
  } catch (err) {
    if (controller.signal.aborted && pid !== undefined) await killQuietly(envd, pid);
    if (controller.signal.reason instanceof AgentError) throw controller.signal.reason;
    throw AgentError.from(err);
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
    // Ends the request of a call that failed or was cancelled; an ended one is closed by `drain`.
    if (!ended) controller.abort();
  }
}

/** How long a finished command's stream may take to close before its request is cut. */
const DRAIN_MS = 5000;

/** Reads a finished command's stream to its end, then closes the request either way. */
async function drain(events: AsyncIterator<unknown>, controller: AbortController): Promise<void> {
  const timer = setTimeout(() => controller.abort(), DRAIN_MS);
  try {
    while (!(await events.next()).done) {}
  } catch {
    // The command's answer is already out; a broken tail only costs the connection.
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function sendStdin(envd: EnvdClient, pid: number, data: Uint8Array): Promise<void> {
  const selector = { selector: { case: "pid" as const, value: pid } };
  if (data.length > 0) {
    await envd.process.sendInput({ process: selector, input: { input: { case: "stdin", value: data } } });
  }
  await envd.process.closeStdin({ process: selector });
}

async function killQuietly(envd: EnvdClient, pid: number): Promise<void> {
  await envd.process
    .sendSignal(
      { process: { selector: { case: "pid", value: pid } }, signal: envdProcess.Signal.SIGKILL },
      { timeoutMs: 2000 },
    )
    .catch(() => undefined);
}
