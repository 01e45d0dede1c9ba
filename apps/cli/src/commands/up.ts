/**
 * `wrenn up` and `wrenn down`: the whole platform on this machine. `up` installs what is missing, builds the guest
 * images, starts (or finds) the control plane and a host agent, saves the API key, runs a first capsule, then stays
 * in the foreground until Ctrl-C — or with `--detach` leaves everything running for `wrenn down`.
 */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { printJson } from "../output.ts";
import { buildImages } from "../up/build-images.ts";
import { runFirstCapsule } from "../up/first-capsule.ts";
import { type LocalStack, startLocalStack } from "../up/local-stack.ts";
import { ensurePrerequisites } from "../up/prerequisites.ts";
import { findRunningStack, stopRecordedStack } from "../up/stack-control.ts";
import { defaultDataDir, readState, stackLayout } from "../up/stack-layout.ts";
import { createSteps } from "../up/steps.ts";
import { saveUserConfig } from "../up/user-config.ts";
import { nonNegativeInt } from "./parse.ts";

interface UpOptions {
  dataDir: string;
  port: number;
  agentPort: number;
  filesRoot: string;
  databaseUrl?: string;
  detach?: boolean;
  install: boolean;
  images: boolean;
  firstCapsule: boolean;
}

/** Registers `up` and `down`. */
export function registerUpCommands(program: Command, ctx: CliContext): void {
  program
    .command("up")
    .description("start Wrenn on this machine (control plane, embedded database, one host agent) and run a capsule")
    .option("--data-dir <dir>", "database, logs and state", defaultDataDir())
    .option(
      "--port <port>",
      "control plane port on 127.0.0.1 (default: CP_LISTEN_ADDR's, else 8000)",
      nonNegativeInt,
      portOf(process.env.CP_LISTEN_ADDR, 8000),
    )
    .option(
      "--agent-port <port>",
      "host agent port on 127.0.0.1 (default: AGENT_LISTEN_ADDR's, else 50051)",
      nonNegativeInt,
      portOf(process.env.AGENT_LISTEN_ADDR, 50051),
    )
    .option(
      "--files-root <dir>",
      "host agent files (kernels, images, capsules)",
      process.env.AGENT_FILES_ROOTDIR || "/var/lib/wrenn",
    )
    .option("--database-url <url>", "use this PostgreSQL instead of the embedded database", process.env.DATABASE_URL)
    .option("-d, --detach", "leave it running in the background (stop with `wrenn down`)")
    .option("--no-install", "do not install missing packages")
    .option("--no-images", "do not build the guest images")
    .option("--no-first-capsule", "skip the first capsule")
    .action(async (o: UpOptions) => up(ctx, o));

  program
    .command("down")
    .description("stop a stack started with `wrenn up --detach`")
    .option("--data-dir <dir>", "the stack's data directory", defaultDataDir())
    .action(async (o: { dataDir: string }) => {
      const stopped = await stopRecordedStack(o.dataDir);
      if (ctx.json()) printJson(ctx.io, { stopped });
      else ctx.io.out(stopped.length ? `stopped ${stopped.join(", ")}\n` : "nothing was running\n");
    });
}

async function up(ctx: CliContext, o: UpOptions): Promise<void> {
  const steps = createSteps(!ctx.json());
  if (o.install) await steps.run("checking prerequisites", async () => ensurePrerequisites(steps.log));
  if (o.images) {
    steps.log("building guest images (cached after the first run)");
    await buildImages(o.filesRoot);
  }

  const running = findRunningStack(o.dataDir);
  let stack: LocalStack | undefined;
  let baseUrl: string;
  let apiKey: string;
  if (running) {
    const state = readState(stackLayout(o.dataDir).state);
    if (!state)
      throw new Error(`a stack runs from ${o.dataDir} but its state.json is missing; run \`wrenn down\` first`);
    steps.log(`Wrenn is already running at ${running.base_url}`);
    baseUrl = running.base_url;
    apiKey = state.api_key;
  } else {
    stack = await startLocalStack({
      dataDir: o.dataDir,
      cpPort: o.port,
      agentPort: o.agentPort,
      filesRootDir: o.filesRoot,
      databaseUrl: o.databaseUrl,
      detached: o.detach,
      onStep: steps.log,
    });
    baseUrl = stack.baseUrl;
    apiKey = stack.apiKey;
  }

  const configPath = saveUserConfig(baseUrl, apiKey);
  const layout = stackLayout(o.dataDir);
  try {
    const first = o.firstCapsule
      ? await steps.run("running a first capsule", () => runFirstCapsule({ baseUrl, apiKey }, (l) => steps.print(l)))
      : undefined;
    const summary = {
      base_url: baseUrl,
      api_key: apiKey,
      config_file: configPath,
      data_dir: o.dataDir,
      files_root: stack?.filesRootDir ?? o.filesRoot,
      logs: [layout.cpLog, layout.agentLog],
      admin_email: stack?.adminEmail,
      admin_password: stack?.adminPassword,
      first_capsule: first ? { id: first.capsuleId, output: first.outputs } : undefined,
      detached: Boolean(o.detach || running),
    };
    if (ctx.json()) printJson(ctx.io, summary);
    else printSummary(ctx, summary);
  } catch (err) {
    if (stack && !o.detach) await stack.stop();
    throw err;
  }

  if (!stack || o.detach) return;
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    stack.controlPlane.exited().then(() => resolve());
    stack.agent.exited().then(() => resolve());
  });
  steps.log("stopping Wrenn");
  await stack.stop();
}

/** The port of a `host:port` / `:port` address, or `fallback`. */
export function portOf(addr: string | undefined, fallback: number): number {
  const port = Number(addr?.split(":").pop());
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : fallback;
}

function printSummary(ctx: CliContext, s: Record<string, unknown>): void {
  const out = (l: string) => ctx.io.out(`${l}\n`);
  out("");
  out(`Wrenn is running at ${s.base_url}`);
  out(`  API key      ${s.api_key} (saved to ${s.config_file})`);
  if (s.admin_password)
    out(`  admin        ${s.admin_email} / ${s.admin_password}  (shown once; kept in the data dir)`);
  out(`  data dir     ${s.data_dir}`);
  out(`  files root   ${s.files_root}`);
  out(`  logs         ${(s.logs as string[]).join(", ")}`);
  out("");
  out("Try:  npx wrenn capsule create   then   npx wrenn exec <id> -- uname -a   or   npx wrenn shell <id>");
  out(s.detached ? "Stop it with `wrenn down`." : "Press Ctrl-C to stop.");
}
