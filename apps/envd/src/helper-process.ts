import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { Logger } from "./logger.ts";

/** Options of `startHelperProcess`. */
export interface HelperProcessOptions {
  /** The helper binary. */
  path: string;
  args?: readonly string[];
  /** Its name in log lines ("spawner", "system helper"). */
  name: string;
  log: Logger;
  /** Each chunk of its stdout, as read (no framing: the caller decodes). */
  onData: (chunk: Buffer) => void;
  /** Called when the helper failed to start or closed; may be called more than once (callers make it idempotent). */
  onGone: (reason: string) => void;
}

/**
 * Starts a long-lived helper process that envd talks to over its stdin and stdout (wrenn-spawner, wrenn-reseed
 * --serve) and wires it the way every such helper of envd needs: it never keeps envd's event loop (or a test)
 * alive, its stderr goes to the log, and a start failure or exit is reported once as a reason instead of a throw.
 * `startLineHelper` is the variant for helpers that answer in text lines.
 */
export function startHelperProcess(options: HelperProcessOptions): ChildProcessWithoutNullStreams {
  const { name, log, onGone } = options;
  const child = spawn(options.path, [...(options.args ?? [])], { stdio: ["pipe", "pipe", "pipe"] });
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref(): void }).unref();
  child.stdout.on("data", options.onData);
  child.stderr
    .setEncoding("utf8")
    .on("data", (chunk: string) => log.warn({ stderr: chunk.trimEnd() }, `${name} stderr`));
  // EPIPE once the helper died: the "close" handler below reports that.
  child.stdin.on("error", () => {});
  child.on("error", (err) => onGone(`${name} failed: ${err.message}`));
  // "close", not "exit": it comes after stdout is drained, so an answer written just before dying still counts.
  child.on("close", (code, signal) => onGone(`${name} exited (code ${code}, signal ${signal})`));
  return child;
}
