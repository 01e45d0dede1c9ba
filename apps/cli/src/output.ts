/**
 * How the CLI prints: human tables and lines by default, one JSON document with `--json`, and errors that say
 * what to do next.
 */
import {
  AuthenticationError,
  ConnectionError,
  HostUnavailableError,
  InvalidStateError,
  NotFoundError,
  TooLargeError,
  WrennError,
} from "wrenn";

/** Where the CLI writes; tests pass their own. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The process's stdout/stderr. */
export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** An error the CLI raises itself, with the exit code to use. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints a value as pretty JSON (Dates as ISO strings). */
export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned table with a header. */
export function printTable(io: Io, headers: string[], rows: (string | number | undefined)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? "" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  for (const r of cells)
    io.out(
      `${r
        .map((c, i) => (c ?? "").padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
}

/** The next step to suggest for an error, or undefined. */
export function hintFor(err: unknown): string | undefined {
  if (err instanceof ConnectionError) return undefined; // its message already says what to do
  if (err instanceof AuthenticationError) {
    return /no API key/.test(err.message)
      ? undefined
      : "the API key was rejected: run `wrenn up` (it saves a fresh key) or set WRENN_API_KEY to a valid key";
  }
  if (err instanceof NotFoundError) return "see what exists with `wrenn capsule list` (or `wrenn snapshot list`)";
  if (err instanceof InvalidStateError) {
    return "check its state with `wrenn capsule get <id>`; a paused capsule comes back with `wrenn capsule resume <id>`";
  }
  if (err instanceof HostUnavailableError) {
    return "no host can take it: is `wrenn up` running? `wrenn host list` shows the hosts";
  }
  if (err instanceof TooLargeError) return "`wrenn files put` streams files of any size";
  return undefined;
}

/** Prints an error (as `{"error":{code,message,hint}}` with --json) and returns the exit code. */
export function reportError(io: Io, err: unknown, json: boolean): number {
  const exitCode = err instanceof CliError ? err.exitCode : 1;
  const code = err instanceof WrennError ? err.code : err instanceof CliError ? "cli_error" : "error";
  const message = err instanceof Error ? err.message : String(err);
  const hint = hintFor(err);
  if (json) {
    io.err(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  } else {
    io.err(`error: ${message}\n`);
    if (hint) io.err(`hint: ${hint}\n`);
  }
  return exitCode;
}
