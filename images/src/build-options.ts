import { parseArgs } from "node:util";
import { BuildError } from "./build-error.ts";
import { TEMPLATE_NAMES, type TemplateName } from "./templates.ts";

/** What one run of `images/build.ts` should do. */
export interface BuildOptions {
  /** The host files root (`kernels/`, `images/`, `cache/` live under it). */
  rootDir: string;
  /** Templates to build, in build order. */
  only: TemplateName[];
  /** Rebuild the kernel and the selected templates even when their recipe is unchanged (reuses downloads and the debootstrap cache unless `forceBase`). */
  force: boolean;
  /** Also redo debootstrap instead of reusing the cached base tarball. */
  forceBase: boolean;
  /** Folder holding `envd` and `envd-native/` (default: the repository's `builds/`). */
  envdDir?: string;
  /** The agent's files root (AGENT_FILES_ROOTDIR) when set: its overlays may be backed by old image versions too. */
  agentRootDir?: string;
  /** `--help` was given: print {@link USAGE} and exit. */
  help: boolean;
}

/** The default host files root, the agent's `AGENT_FILES_ROOTDIR` default. */
export const DEFAULT_ROOT_DIR = "/var/lib/wrenn";

export const USAGE = `usage: node --import tsx images/build.ts [--root DIR] [--only minimal,python,node] [--force] [--force-base] [--envd-dir DIR]
  --root DIR      host files root (default: $AGENT_FILES_ROOTDIR or ${DEFAULT_ROOT_DIR})
  --only LIST     templates to build, comma separated (default: all: ${TEMPLATE_NAMES.join(",")})
  --force         rebuild kernel and templates even if their recipe is unchanged
  --force-base    also redo debootstrap instead of using the cached base tarball
  --envd-dir DIR  take envd and envd-native/ from DIR instead of builds/ (development)`;

/** Parses the command line (argv without node and the script) and the environment into {@link BuildOptions}. */
export function parseBuildOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BuildOptions {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new BuildError("invalid_args", (err as Error).message, USAGE);
  }
  const only: TemplateName[] = [];
  for (const raw of (values.only ?? TEMPLATE_NAMES.join(",")).split(",")) {
    const name = raw.trim();
    if (!name) continue;
    if (!(TEMPLATE_NAMES as readonly string[]).includes(name)) {
      throw new BuildError("invalid_args", `unknown template "${name}"`, `choose from: ${TEMPLATE_NAMES.join(", ")}`);
    }
    if (!only.includes(name as TemplateName)) only.push(name as TemplateName);
  }
  if (only.length === 0) throw new BuildError("invalid_args", "--only names no template", USAGE);
  // Build in dependency order (python and node are layered on minimal's base) whatever order was asked.
  only.sort((a, b) => TEMPLATE_NAMES.indexOf(a) - TEMPLATE_NAMES.indexOf(b));
  const rootDir = values.root ?? env.AGENT_FILES_ROOTDIR ?? DEFAULT_ROOT_DIR;
  if (!rootDir.startsWith("/"))
    throw new BuildError("invalid_args", `--root must be an absolute path, got "${rootDir}"`);
  return {
    rootDir: rootDir.replace(/\/+$/, "") || "/",
    only,
    force: values.force === true,
    forceBase: values["force-base"] === true,
    envdDir: values["envd-dir"],
    agentRootDir: env.AGENT_FILES_ROOTDIR || undefined,
    help: values.help === true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      root: { type: "string" },
      only: { type: "string" },
      force: { type: "boolean" },
      "force-base": { type: "boolean" },
      "envd-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
