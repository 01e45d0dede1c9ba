import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { Logger } from "./logger.ts";

/** Options of `startLineHelper`. */
export interface LineHelperOptions {
  /** The helper binary. */
  path: string;
  args?: readonly string[];
  /** Its name in log lines ("spawner", "system helper"). */
  name: string;
  log: Logger;
  /** Each complete stdout line, without its newline. */
  onLine: (line: string) => void;
  /** Called when the helper failed to start or closed; may be called more than once (callers make it idempotent). */
  onGone: (reason: string) => void;
}

/**
 * Starts a long-lived helper process that answers on stdout one line per message (wrenn-spawner,
 * wrenn-reseed --serve) and wires it the way every such helper of envd needs: it never keeps envd's event
 * loop (or a test) alive, its stdout arrives in whole lines, its stderr goes to the log, and a start failure
 * or exit is reported once as a reason instead of a throw.
 */
export function startLineHelper(options: LineHelperOptions): ChildProcessWithoutNullStreams {
  const { name, log, onLine, onGone } = options;
  const child = spawn(options.path, [...(options.args ?? [])], { stdio: ["pipe", "pipe", "pipe"] });
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref(): void }).unref();
  let tail = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (tail + chunk).split("\n");
    tail = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
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
