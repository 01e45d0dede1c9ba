/**
 * Assembles a running agent from its configuration: host checks, accelerator, VM driver, templates, capsule manager
 * (re-adopting capsules an earlier agent left running), RPC server, template prewarm. main.ts adds the CLI, signals
 * and registration.
 */
import { mkdir, readFile } from "node:fs/promises";
import { createCapsuleManager } from "./capsules/capsule-manager.ts";
import type { AgentConfig } from "./config.ts";
import { AgentError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { CapsuleMetricsHub } from "./metrics/capsule-metrics-hub.ts";
import { instrumentManager } from "./metrics/instrument-manager.ts";
import { MetricsRegistry } from "./metrics/metrics-registry.ts";
import { createPortProxy } from "./proxy/port-proxy.ts";
import { startRpcServer } from "./rpc/server.ts";
import { createHostAgentService } from "./rpc/service.ts";
import { hostLayout } from "./storage/layout.ts";
import { createTemplateStore } from "./templates/template-store.ts";
import { AGENT_VERSION } from "./version.ts";
import { chooseAccelerator } from "./vmm/qemu/accel-probe.ts";
import { hostTscKhz, qemuVersion } from "./vmm/qemu/host-facts.ts";
import { createQemuVmm } from "./vmm/qemu/qemu-vmm.ts";

/** A started agent. */
export interface RunningAgent {
  readonly port: number;
  readonly accelerator: "kvm" | "tcg";
  /** Pauses every running capsule (the control plane is unreachable): reason `host_lost`. */
  pauseAll(reason: string): Promise<void>;
  /** Stops serving; leaves capsules running (`destroyAll` for Terminate). */
  stop(options: { destroyAll: boolean }): Promise<void>;
}

/** Starts the agent. `onTerminate` is called when the control plane sends Terminate. */
export async function startAgent(config: AgentConfig, log: Logger, onTerminate: () => void): Promise<RunningAgent> {
  const layout = hostLayout(config.rootDir);
  for (const dir of [layout.sandboxesDir, layout.templatesDir, layout.snapshotsDir, layout.teamTemplatesDir]) {
    await mkdir(dir, { recursive: true });
  }
  const version = await qemuVersion(config.qemuBin);
  const accelerator = await chooseAccelerator({
    requested: config.accel,
    qemuBin: config.qemuBin,
    qemuVersion: version,
    kernelPath: layout.kernel,
    initrdPath: layout.initrd,
    log,
  });
  const tscKhz = config.tscKhz ?? (await hostTscKhz());
  const vmm = createQemuVmm({ bin: config.qemuBin, accelerator, tscKhz, version, log });
  const kernelRelease = (await readFile(layout.kernelRelease, "utf8").catch(() => "unknown")).trim();
  log.info({ accelerator, qemu: version, tscKhz, kernelRelease, root: config.rootDir }, "host checked");

  const common = {
    vmm,
    layout,
    qemuImg: config.qemuImgBin,
    extraKernelArgs: config.extraKernelArgs,
    log,
  };
  const templates = createTemplateStore({ ...common, bootTimeoutMs: config.bootTimeoutMs });
  const hub = new CapsuleMetricsHub(log);
  const registry = new MetricsRegistry();
  const manager = instrumentManager(
    createCapsuleManager({
      ...common,
      restoreTimeoutMs: config.restoreTimeoutMs,
      templates,
      poolSize: config.poolSize,
      defaultMemoryMb: config.defaultMemoryMb,
      failpoints: config.failpoints,
      hostMetadata: { agent_version: AGENT_VERSION, kernel_version: kernelRelease, vmm: "qemu", accelerator },
      events: {
        up: (c) =>
          hub.track({ capsuleId: c.id, pid: c.vm.pid, vcpus: c.record.vcpus, diskPath: layout.sandbox(c.id).overlay }),
        gone: (id) => hub.untrack(id),
      },
    }),
    registry,
  );
  await manager.start();
  registry.setCapsuleStateSource(() => {
    const all = manager.list();
    return {
      running: all.filter((c) => c.status === "running").length,
      paused: all.filter((c) => c.status === "paused").length,
    };
  });

  const proxy = createPortProxy({
    getCapsule: (id, touch) => manager.get(id, touch),
    agentKey: config.agentKey,
    log,
  });
  const server = await startRpcServer({
    listenAddr: config.listenAddr,
    agentKey: config.agentKey,
    service: createHostAgentService({
      manager,
      host: { agentVersion: AGENT_VERSION, accelerator, listTemplates: () => templates.listImages() },
      metrics: hub,
      onTerminate,
    }),
    interceptors: [registry.rpcInterceptor()],
    fallback: (req, res) => proxy.handleRequest(req as never, res as never) || registry.handleHttp(req, res),
    upgrade: (req, socket, head) => proxy.handleUpgrade(req, socket, head),
  });
  log.info({ port: server.port, capsules: manager.list().length }, "agent serving");

  for (const template of config.prewarmTemplates) {
    manager.prewarm(template).catch((err) => {
      log.error({ template, err: AgentError.from(err).message }, "template prewarm failed");
    });
  }

  return {
    port: server.port,
    accelerator,
    pauseAll: (reason) => manager.pauseAll(reason),
    async stop({ destroyAll }) {
      await server.close();
      await manager.shutdown({ destroyAll });
      hub.close();
    },
  };
}
