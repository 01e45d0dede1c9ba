import { posix } from "node:path";
import type { ArchiveType } from "./archive-type.ts";
import { expandEnv } from "./env-expand.ts";
import type { Instruction } from "./recipe.ts";
import { shellQuote as q } from "./shell-quote.ts";

/** Where a build's archive is unpacked and where `COPY` sources are read from (reference §9). */
export const BUILD_FILES_DIR = "/tmp/build-files";
/** Where the archive is uploaded before it is unpacked. */
export const BUILD_ARCHIVE_PATH = "/tmp/build-archive";
/** A `RUN` without `--timeout` (reference §14: build per-step default 30 s). */
export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
/** PATH seen by `$PATH` in an `ENV` line before any `ENV PATH=…` (Debian's default). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What the recipe has set so far: the user steps run as, their directory, and the variables from `ENV`. */
export interface BuildState {
  user: string;
  workdir: string;
  /** Only what `ENV` set; these are exported to every later step and end up in the template's `default_env`. */
  env: Record<string, string>;
}

/** A build starts as root in `/` with no variables of its own. */
export function initialBuildState(): BuildState {
  return { user: "root", workdir: "/", env: {} };
}

/** One step ready to run: the shell script (none for `ENV`), its deadline, and the state once it succeeded. */
export interface PlannedStep {
  script?: string;
  timeoutMs: number;
  next: BuildState;
}

/** A user's home directory, as `USER` creates it. */
export const homeOf = (user: string) => (user === "root" ? "/root" : `/home/${user}`);

/** `$NAME` lookup for `ENV`: the recipe's own variables, then HOME, USER and PATH as the step would see them. */
function lookup(state: BuildState) {
  return (name: string): string | undefined => {
    if (name in state.env) return state.env[name];
    if (name === "HOME") return homeOf(state.user);
    if (name === "USER" || name === "LOGNAME") return state.user;
    if (name === "PATH") return DEFAULT_PATH;
    return undefined;
  };
}

/**
 * Wraps a command the way the reference runs `RUN`: `cd '<workdir>' && KEY='v' … /bin/sh -c '<cmd>'`, inside
 * `su <user> -s /bin/sh -c …` for a non-root user. Every piece is single-quoted, so no value can break out.
 */
export function asBuildUser(state: BuildState, cmd: string): string {
  const assigns = Object.entries(state.env).map(([k, v]) => `${k}=${q(v)} `);
  const inner = `cd ${q(state.workdir)} && ${assigns.join("")}/bin/sh -c ${q(cmd)}`;
  return state.user === "root" ? inner : `su ${q(state.user)} -s /bin/sh -c ${q(inner)}`;
}

/** Turns one instruction into the script to run and the state after it (reference §9 semantics). */
export function planStep(ins: Instruction, state: BuildState): PlannedStep {
  const plain = { timeoutMs: DEFAULT_STEP_TIMEOUT_MS, next: state };
  switch (ins.kind) {
    case "RUN":
      return { ...plain, script: asBuildUser(state, ins.cmd), timeoutMs: ins.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS };
    case "START":
      // Detached from the step's shell and its pipes, so the step ends while the process keeps running.
      return {
        ...plain,
        script: asBuildUser(state, `nohup /bin/sh -c ${q(ins.cmd)} </dev/null >/dev/null 2>&1 &`),
      };
    case "ENV": {
      const value = expandEnv(ins.value, lookup(state));
      return { ...plain, next: { ...state, env: { ...state.env, [ins.key]: value } } };
    }
    case "WORKDIR": {
      const dir = posix.resolve(state.workdir, ins.path);
      const chown = state.user === "root" ? "" : ` && chown ${q(state.user)}: ${q(dir)}`;
      return {
        ...plain,
        script: `[ -d ${q(dir)} ] || { mkdir -p ${q(dir)}${chown}; }`,
        next: { ...state, workdir: dir },
      };
    }
    case "USER":
      return { ...plain, script: userScript(ins.name), next: { ...state, user: ins.name } };
    case "COPY":
      return { ...plain, script: copyScript(state, ins.sources, ins.dest) };
  }
}

/** Creates the user when missing (bash shell, home directory) and grants passwordless sudo; nothing for root. */
function userScript(name: string): string {
  if (name === "root") return "true";
  const u = q(name);
  const sudoLine = q(`${name} ALL=(ALL) NOPASSWD:ALL`);
  return [
    `if ! id -u ${u} >/dev/null 2>&1; then`,
    `  if command -v useradd >/dev/null 2>&1; then useradd -m -s /bin/bash ${u};`,
    `  elif command -v adduser >/dev/null 2>&1 && adduser --help 2>&1 | grep -q -- --disabled-password; then adduser --disabled-password --gecos '' --shell /bin/bash ${u};`,
    `  else busybox adduser -D -s /bin/bash ${u}; fi`,
    "fi",
    `grep -qxF ${sudoLine} /etc/sudoers 2>/dev/null || echo ${sudoLine} >> /etc/sudoers`,
  ].join("\n");
}

/** `cp -r` of archive paths to `dest` (relative to the working directory), then owned by the current user. */
function copyScript(state: BuildState, sources: readonly string[], dest: string): string {
  const target = posix.resolve(state.workdir, dest);
  const intoDir = sources.length > 1 || dest.endsWith("/");
  const srcs = sources.map((s) => q(posix.join(BUILD_FILES_DIR, s)));
  const copied = intoDir ? sources.map((s) => posix.join(target, posix.basename(posix.normalize(s)))) : [target];
  const lines = [
    "set -e",
    intoDir ? `mkdir -p ${q(target)}` : `mkdir -p ${q(posix.dirname(target))}`,
    `cp -r ${srcs.join(" ")} ${q(intoDir ? `${target}/` : target)}`,
  ];
  if (state.user !== "root") lines.push(`chown -R ${q(state.user)}: ${copied.map(q).join(" ")}`);
  return lines.join("\n");
}

/** Unpacks the uploaded archive into {@link BUILD_FILES_DIR} with the guest's own tools, then removes it. */
export function extractScript(type: ArchiveType): string {
  const a = q(BUILD_ARCHIVE_PATH);
  const d = q(BUILD_FILES_DIR);
  const unpack =
    type === "zip"
      ? // Debian images lack unzip; python3 and busybox (both in every Wrenn image) can unpack zips too.
        `if command -v unzip >/dev/null 2>&1; then unzip -o -q ${a} -d ${d}; ` +
        `elif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -e ${a} ${d}; ` +
        `else busybox unzip -o -q ${a} -d ${d}; fi`
      : `tar -x${type === "tar.gz" ? "z" : ""}f ${a} -C ${d}`;
  return `set -e\nmkdir -p ${d}\n${unpack}\nrm -f ${a}`;
}

/** The pre-build phase (reference §9), skipped with `skip_pre_post`. */
export const PRE_BUILD: readonly string[] = [
  "RUN --timeout=5m apt-get update",
  "USER wrenn-user",
  "WORKDIR /home/wrenn-user",
];

/** The post-build phase, run as root (reference §9): apt clean-up and removal of the build files. */
export const POST_BUILD: readonly string[] = [
  "RUN --timeout=2m apt-get clean",
  "RUN --timeout=5m DEBIAN_FRONTEND=noninteractive apt-get autoremove -y",
  "RUN rm -rf /var/lib/apt/lists/*",
  `RUN rm -rf ${BUILD_FILES_DIR}`,
];

/** Steps a build runs: the recipe plus 7 for pre- and post-build, or the recipe alone (reference §9). */
export const totalSteps = (recipeSteps: number, skipPrePost: boolean) =>
  recipeSteps + (skipPrePost ? 0 : PRE_BUILD.length + POST_BUILD.length);
