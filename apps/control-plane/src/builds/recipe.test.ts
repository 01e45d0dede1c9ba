// biome-ignore-all lint/suspicious/noTemplateCurlyInString: recipes are written in shell ${VAR} syntax.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandEnv } from "./env-expand.ts";
import { parseGoDuration } from "./go-duration.ts";
import { parseRecipe, RecipeError } from "./recipe.ts";
import { splitWords } from "./shell-quote.ts";

const parseError = (lines: string[]) => {
  try {
    parseRecipe(lines);
  } catch (err) {
    assert.ok(err instanceof RecipeError, String(err));
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(lines)}`);
};

describe("parseRecipe", () => {
  it("parses every instruction with its line and text", () => {
    const r = parseRecipe([
      "RUN apt-get install -y curl",
      "run --timeout=1m30s make all",
      "START python3 -m http.server 8080",
      "ENV GREETING=hello world",
      'ENV QUOTED="a b"',
      "WORKDIR /srv/app",
      "USER app_user-1",
      "COPY src 'my file.txt' /srv/app/",
    ]);
    assert.deepEqual(
      r.map(({ text: _t, ...rest }) => rest),
      [
        { line: 1, kind: "RUN", cmd: "apt-get install -y curl" },
        { line: 2, kind: "RUN", cmd: "make all", timeoutMs: 90_000 },
        { line: 3, kind: "START", cmd: "python3 -m http.server 8080" },
        { line: 4, kind: "ENV", key: "GREETING", value: "hello world" },
        { line: 5, kind: "ENV", key: "QUOTED", value: "a b" },
        { line: 6, kind: "WORKDIR", path: "/srv/app" },
        { line: 7, kind: "USER", name: "app_user-1" },
        { line: 8, kind: "COPY", sources: ["src", "my file.txt"], dest: "/srv/app/" },
      ],
    );
    assert.equal(r[1]?.text, "run --timeout=1m30s make all");
  });

  it("skips blank lines and comments, and splits multi-line elements", () => {
    const r = parseRecipe(["# setup", "", "RUN a\nRUN b"]);
    assert.deepEqual(
      r.map((i) => [i.line, i.kind]),
      [
        [3, "RUN"],
        [4, "RUN"],
      ],
    );
  });

  it("rejects bad lines with their line number", () => {
    const cases: Array<[string[], number, RegExp]> = [
      [["RUN ok", "FROM debian"], 2, /unknown instruction "FROM"/],
      [["RUN"], 1, /RUN needs a command/],
      [["RUN --timeout=abc ls"], 1, /--timeout needs a positive Go duration/],
      [["RUN --timeout=0 ls"], 1, /--timeout/],
      [["RUN --retries=2 ls"], 1, /unknown RUN flag --retries/],
      [["START"], 1, /START needs a command/],
      [["ENV NOVALUE"], 1, /KEY=VALUE/],
      [["ENV 1BAD=x"], 1, /invalid variable name/],
      [["ENV X=${UNCLOSED"], 1, /unterminated/],
      [["WORKDIR"], 1, /exactly one path/],
      [["WORKDIR /a /b"], 1, /exactly one path/],
      [["USER 9lives"], 1, /invalid user name/],
      [["USER bob; rm -rf /"], 1, /invalid user name/],
      [["COPY onlyone"], 1, /at least one source/],
      [["COPY /etc/passwd /x"], 1, /relative path inside the archive/],
      [["COPY ../secret /x"], 1, /relative path inside the archive/],
      [["COPY 'open /x"], 1, /unterminated/],
    ];
    for (const [lines, line, message] of cases) {
      const err = parseError(lines);
      assert.equal(err.line, line, lines.join(" | "));
      assert.match(err.message, message, lines.join(" | "));
      assert.match(err.message, new RegExp(`^recipe line ${line}: `));
    }
  });
});

describe("expandEnv", () => {
  const env: Record<string, string> = { HOME: "/home/u", PATH: "/bin", EMPTY: "" };
  const look = (n: string) => env[n];

  it("expands $VAR and ${VAR}, keeps $$ as one $ and unset variables as nothing", () => {
    assert.equal(expandEnv("$HOME/bin:${PATH}", look), "/home/u/bin:/bin");
    assert.equal(expandEnv("${HOME}suffix", look), "/home/usuffix");
    assert.equal(expandEnv("cost $$5 and $$HOME", look), "cost $5 and $HOME");
    assert.equal(expandEnv("[$MISSING][${EMPTY}]", look), "[][]");
    assert.equal(expandEnv("trailing $ and $1", look), "trailing $ and $1");
  });

  it("rejects an unterminated or invalid ${…}", () => {
    assert.throws(() => expandEnv("${HOME", look), /unterminated/);
    assert.throws(() => expandEnv("${HO-ME}", look), /invalid variable name/);
  });
});

describe("parseGoDuration and splitWords", () => {
  it("reads Go durations in ms", () => {
    assert.equal(parseGoDuration("30s"), 30_000);
    assert.equal(parseGoDuration("1h2m3s"), 3_723_000);
    assert.equal(parseGoDuration("1.5s"), 1500);
    assert.equal(parseGoDuration("250ms"), 250);
    assert.equal(parseGoDuration("0"), 0);
    for (const bad of ["", "5", "-1s", "1d", "s", "1s "]) assert.equal(parseGoDuration(bad), undefined, bad);
  });

  it("splits words with quotes and escapes", () => {
    assert.deepEqual(splitWords(`a  "b c" 'd "e"' f\\ g "h\\"i"`), ["a", "b c", 'd "e"', "f g", 'h"i']);
    assert.deepEqual(splitWords(`'' x`), ["", "x"]);
  });
});
