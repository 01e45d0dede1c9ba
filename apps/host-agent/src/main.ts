/**
 * wrenn-agent: the host agent. Reads config, registers with the control plane when asked, serves RPC, and on
 * SIGTERM stops serving but leaves every capsule's VM running so the next start re-adopts them.
 */
import { Command } from "commander";
import { startAgent } from "./agent.ts";
import { loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import { obtainCredentials, startHeartbeats } from "./registration/registration.ts";
import { AGENT_VERSION } from "./version.ts";

const program = new Command("wrenn-agent")
  .description("Wrenn host agent: runs capsule microVMs on this host")
  .version(AGENT_VERSION)
  .option("--register <token>", "one-hour registration token from the control plane (re-registers this host)")
  .option("--address <host:port>", "address the control plane uses to reach this agent")
  .option("--root <dir>", "files root (overrides AGENT_FILES_ROOTDIR)")
  .option("--listen <addr>", "RPC listen address (overrides AGENT_LISTEN_ADDR)");

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ register?: string; address?: string; root?: string; listen?: string }>();
  const config = loadConfig({
    ...process.env,
    ...(opts.root ? { AGENT_FILES_ROOTDIR: opts.root } : {}),
    ...(opts.listen ? { AGENT_LISTEN_ADDR: opts.listen } : {}),
  });
  const log = createLogger(config.logLevel);
  let stopping = false;
  let heartbeats: { stop(): void } | undefined;
  const stop = async (destroyAll: boolean, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ destroyAll }, destroyAll ? "terminating: destroying every capsule" : "stopping; capsules keep running");
    heartbeats?.stop();
    await agent.stop({ destroyAll }).catch((err) => log.error({ err }, "shutdown failed"));
    process.exit(code);
  };
  const registration = {
    config,
    log,
    register: opts.register,
    address: opts.address,
    onHostDeleted: () => void stop(true, 0),
  };
  const creds = await obtainCredentials(registration);
  // A registered host takes its RPC key from the control plane.
  const agent = await startAgent(
    { ...config, agentKey: creds?.agent_key ?? config.agentKey },
    log,
    () => void stop(true, 0),
  );
  if (creds) {
    heartbeats = startHeartbeats(
      {
        ...registration,
        metadata: { accelerator: agent.accelerator },
        onControlPlaneLost: () => void agent.pauseAll("host_lost"),
      },
      creds,
      config.heartbeatIntervalMs,
    );
  }
  process.on("SIGTERM", () => void stop(false, 0));
  process.on("SIGINT", () => void stop(false, 0));
}

main().catch((err: unknown) => {
  process.stderr.write(`wrenn-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
