import { expandEnv } from "./env-expand.ts";
import { parseGoDuration } from "./go-duration.ts";
import { splitWords } from "./shell-quote.ts";

/** One parsed recipe instruction (reference §9 "Recipe format"); `line` is 1-based, `text` the line as written. */
export type Instruction = { line: number; text: string } & (
  | { kind: "RUN"; cmd: string; timeoutMs?: number }
  | { kind: "START"; cmd: string }
  | { kind: "ENV"; key: string; value: string }
  | { kind: "WORKDIR"; path: string }
  | { kind: "USER"; name: string }
  | { kind: "COPY"; sources: string[]; dest: string }
);

/** A recipe line that is not a valid instruction; the message names the line. */
export class RecipeError extends Error {
  override readonly name = "RecipeError";
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`recipe line ${line}: ${reason}`);
  }
}

/** `USER` names: letters, digits, `_`, `-`, starting with a letter or `_` (reference §9). */
export const USER_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a recipe: one instruction per array element (an element may also hold several lines). Blank lines and
 * `#` comments are skipped; anything else that is not RUN, START, ENV, WORKDIR, USER or COPY is a RecipeError.
 * Keywords are case-insensitive, as in a Dockerfile.
 */
export function parseRecipe(recipe: readonly string[]): Instruction[] {
  const out: Instruction[] = [];
  const lines = recipe.flatMap((el) => el.split(/\r?\n/));
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (text === "" || text.startsWith("#")) return;
    out.push(parseLine(text, i + 1));
  });
  return out;
}

function parseLine(text: string, line: number): Instruction {
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(text);
  const keyword = (m?.[1] ?? "").toUpperCase();
  const rest = (m?.[2] ?? "").trim();
  const fail = (reason: string): never => {
    throw new RecipeError(line, reason);
  };
  const base = { line, text };
  switch (keyword) {
    case "RUN": {
      let cmd = rest;
      let timeoutMs: number | undefined;
      const flag = /^--([A-Za-z-]+)(?:=(\S*))?(?:\s+|$)/.exec(cmd);
      if (flag) {
        if (flag[1] !== "timeout") fail(`unknown RUN flag --${flag[1]}`);
        timeoutMs = parseGoDuration(flag[2] ?? "");
        if (!timeoutMs) fail(`--timeout needs a positive Go duration such as 90s or 5m, got "${flag[2] ?? ""}"`);
        cmd = cmd.slice(flag[0].length).trim();
      }
      if (cmd === "") fail("RUN needs a command");
      return { ...base, kind: "RUN", cmd, ...(timeoutMs ? { timeoutMs } : {}) };
    }
    case "START":
      if (rest === "") fail("START needs a command");
      return { ...base, kind: "START", cmd: rest };
    case "ENV": {
      const eq = rest.indexOf("=");
      if (eq <= 0) fail("ENV needs KEY=VALUE");
      const key = rest.slice(0, eq);
      if (!ENV_KEY.test(key)) fail(`invalid variable name "${key}"`);
      const value = unquote(rest.slice(eq + 1));
      try {
        expandEnv(value, () => "");
      } catch (err) {
        fail((err as Error).message);
      }
      return { ...base, kind: "ENV", key, value };
    }
    case "WORKDIR": {
      const words = words1(rest, fail);
      if (words.length !== 1) fail("WORKDIR needs exactly one path");
      return { ...base, kind: "WORKDIR", path: words[0] as string };
    }
    case "USER":
      if (!USER_NAME.test(rest))
        fail(`invalid user name "${rest}" (letters, digits, _ and -, starting with a letter or _)`);
      return { ...base, kind: "USER", name: rest };
    case "COPY": {
      const words = words1(rest, fail);
      if (words.length < 2) fail("COPY needs at least one source and a destination");
      const dest = words.pop() as string;
      for (const src of words) {
        if (src.startsWith("/") || src.split("/").includes("..")) {
          fail(`COPY source "${src}" must be a relative path inside the archive`);
        }
      }
      return { ...base, kind: "COPY", sources: words, dest };
    }
    default:
      return fail(`unknown instruction "${m?.[1] ?? text}" (expected RUN, START, ENV, WORKDIR, USER or COPY)`);
  }
}

function words1(rest: string, fail: (reason: string) => never): string[] {
  try {
    return splitWords(rest).filter((w) => w !== "");
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** `"v"` or `'v'` around a whole ENV value are dropped, as a shell would. */
function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) return v.slice(1, -1);
  return v;
}
