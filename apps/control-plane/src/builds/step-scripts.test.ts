// biome-ignore-all lint/suspicious/noTemplateCurlyInString: recipes are written in shell ${VAR} syntax.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { templateDefaults } from "./build-runner.ts";
import { parseRecipe } from "./recipe.ts";
import {
  asBuildUser,
  type BuildState,
  extractScript,
  initialBuildState,
  planStep,
  totalSteps,
} from "./step-scripts.ts";

const one = (line: string) => parseRecipe([line])[0]!;
/** Applies instructions in order, as the runner does, returning the final state and the scripts. */
function plan(lines: string[], state: BuildState = initialBuildState()) {
  const scripts: Array<string | undefined> = [];
  for (const ins of parseRecipe(lines)) {
    const p = planStep(ins, state);
    scripts.push(p.script);
    state = p.next;
  }
  return { state, scripts };
}

describe("build step scripts", () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "wrenn-steps-")));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sh = (script: string) => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });

  it("runs RUN in the working directory with the ENV values intact, whatever they contain", () => {
    const nasty = `it's "quoted" $HOME \`id\` $(id) \\ ; rm -rf /nope`;
    const state: BuildState = { user: "root", workdir: dir, env: { NASTY: nasty, EMPTY: "" } };
    const p = planStep(one(`RUN printf '%s|%s|%s' "$NASTY" "$(pwd)" "\${EMPTY-unset}"`), state);
    assert.equal(sh(p.script!), `${nasty}|${dir}|`);
    assert.equal(p.timeoutMs, 30_000);
    assert.equal(planStep(one("RUN --timeout=2m true"), state).timeoutMs, 120_000);
  });

  it("wraps a non-root user's steps in su with the whole command quoted once more", () => {
    const state: BuildState = { user: "app", workdir: "/srv/it's", env: { A: "1" } };
    const script = asBuildUser(state, "echo 'hi'");
    assert.match(script, /^su 'app' -s \/bin\/sh -c '/);
    // Unwrapping su's argument gives back exactly the root form of the same step.
    const inner = sh(`printf %s ${script.slice("su 'app' -s /bin/sh -c ".length)}`);
    assert.equal(inner, asBuildUser({ ...state, user: "root" }, "echo 'hi'"));
  });

  it("expands ENV against earlier ENV lines, HOME of the current user and the default PATH", () => {
    const { state, scripts } = plan([
      "ENV A=one",
      "ENV B=${A}-$A-$$A",
      "USER bob",
      "ENV P=$HOME/bin:$PATH",
      "ENV U=$USER",
      "WORKDIR app",
      "WORKDIR ../lib",
    ]);
    assert.deepEqual(state.env, {
      A: "one",
      B: "one-one-$A",
      P: "/home/bob/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      U: "bob",
    });
    assert.equal(state.user, "bob");
    assert.equal(state.workdir, "/lib");
    assert.equal(scripts[0], undefined, "ENV runs nothing");
    assert.match(scripts[2]!, /useradd -m -s \/bin\/bash 'bob'/);
    assert.match(scripts[2]!, /'bob ALL=\(ALL\) NOPASSWD:ALL' >> \/etc\/sudoers/);
    assert.match(scripts[5]!, /mkdir -p '\/app' && chown 'bob': '\/app'/);
  });

  it("creates a WORKDIR that does not exist yet, relative to the current one", () => {
    const p = planStep(one("WORKDIR 'a/b c'"), { user: "root", workdir: dir, env: {} });
    assert.equal(p.next.workdir, join(dir, "a/b c"));
    sh(p.script!);
    assert.ok(existsSync(join(dir, "a/b c")));
    sh(p.script!); // idempotent
  });

  it("copies archive paths into a directory or onto a path, owned by the current user", () => {
    const bob: BuildState = { user: "bob", workdir: "/srv", env: {} };
    const many = planStep(one("COPY a.txt 'dir one' out/"), bob).script!;
    assert.match(many, /cp -r '\/tmp\/build-files\/a\.txt' '\/tmp\/build-files\/dir one' '\/srv\/out\/'/);
    assert.match(many, /chown -R 'bob': '\/srv\/out\/a\.txt' '\/srv\/out\/dir one'/);
    const single = planStep(one("COPY app.py /opt/app/main.py"), { ...bob, user: "root" }).script!;
    assert.match(single, /mkdir -p '\/opt\/app'\ncp -r '\/tmp\/build-files\/app\.py' '\/opt\/app\/main\.py'$/);
  });

  it("backgrounds START detached from the step's output", () => {
    const p = planStep(one("START python3 -m http.server 8000"), initialBuildState());
    assert.match(
      p.script!,
      /nohup \/bin\/sh -c '\\''python3 -m http\.server 8000'\\'' <\/dev\/null >\/dev\/null 2>&1 &/,
    );
  });

  it("unpacks each archive type with a guest tool and counts 7 extra steps unless skipped", () => {
    assert.match(extractScript("tar.gz"), /tar -xzf '\/tmp\/build-archive' -C '\/tmp\/build-files'/);
    assert.match(extractScript("tar"), /tar -xf /);
    assert.match(extractScript("zip"), /unzip -o -q .*python3 -m zipfile -e .*busybox unzip/s);
    assert.equal(totalSteps(4, false), 11);
    assert.equal(totalSteps(4, true), 4);
  });

  it("leaves runtime variables out of the template defaults", () => {
    const d = templateDefaults({
      user: "bob",
      workdir: "/",
      env: { HOME: "/x", PATH: "/p", TERM: "xterm", WRENN_SANDBOX_ID: "cl-1", APP_MODE: "prod" },
    });
    assert.deepEqual(d, { defaultUser: "bob", defaultEnv: { PATH: "/p", APP_MODE: "prod" } });
  });
});
