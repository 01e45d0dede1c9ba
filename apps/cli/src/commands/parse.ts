/** Argument parsers shared by the commands (commander calls them with the raw text). */
import { InvalidArgumentError } from "commander";

/** A positive integer option. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

/** A non-negative integer option. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be an integer ≥ 0");
  return n;
}

/** Collects repeated `--env KEY=VALUE` options into a map. */
export function envPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError("must look like KEY=VALUE");
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * The program to run for `wrenn exec <id> -- …`: one word is a shell script (`sh -c`), several words are a
 * program and its arguments, passed without a shell.
 */
export function commandFromWords(words: string[]): { cmd: string; args?: string[] } {
  if (words.length === 0)
    throw new InvalidArgumentError("give the command after `--`, e.g. `wrenn exec <id> -- ls -l`");
  if (words.length === 1) return { cmd: words[0] as string };
  return { cmd: words[0] as string, args: words.slice(1) };
}

/** Clamps a remote exit code to what a process can exit with. */
export function localExitCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
}
