/**
 * The agent's configuration: the only module that reads `process.env`. Parsed once in main.ts and passed down frozen.
 */
import { z } from "zod";

const intFromEnv = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const schema = z.object({
  AGENT_LISTEN_ADDR: z.string().default(":50051"),
  AGENT_FILES_ROOTDIR: z.string().min(1).default("/var/lib/wrenn"),
  AGENT_CP_URL: z.url().optional(),
  AGENT_KEY: z.string().optional(),
  AGENT_QEMU_BIN: z.string().min(1).default("qemu-system-x86_64"),
  AGENT_QEMU_IMG_BIN: z.string().min(1).default("qemu-img"),
  AGENT_ACCEL: z.enum(["auto", "kvm", "tcg"]).default("auto"),
  AGENT_POOL_SIZE: intFromEnv(2, 0, 64),
  AGENT_TSC_KHZ: z.coerce.number().int().positive().optional(),
  AGENT_PREWARM_TEMPLATES: z.string().default("minimal"),
  AGENT_KERNEL_ARGS: z.string().default(""),
  AGENT_BOOT_TIMEOUT_SEC: intFromEnv(120, 1, 3600),
  AGENT_RESTORE_TIMEOUT_SEC: intFromEnv(30, 1, 600),
  AGENT_DEFAULT_MEMORY_MB: intFromEnv(512, 64, 65536),
  AGENT_HEARTBEAT_INTERVAL_SEC: intFromEnv(30, 1, 3600),
  AGENT_FAILPOINTS: z.string().default(""),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

/** Typed, frozen agent configuration. Durations carry their unit in the name. */
export interface AgentConfig {
  /** host:port (or :port) the HostAgentService listens on (h2c). Default `:50051`. */
  readonly listenAddr: string;
  /** Root of all host files (kernels/, images/, templates/, sandboxes/, host-token). Default `/var/lib/wrenn`. */
  readonly rootDir: string;
  /** Control plane base URL; unset means standalone (no registration, no heartbeats). */
  readonly cpUrl: string | undefined;
  /** Bearer key every RPC must carry; unset means no RPC auth (standalone development only). */
  readonly agentKey: string | undefined;
  readonly qemuBin: string;
  readonly qemuImgBin: string;
  /** `auto` probes whether KVM really boots a guest, else TCG. */
  readonly accel: "auto" | "kvm" | "tcg";
  /** Restored, warmed clones kept ready per template key. Default 2. */
  readonly poolSize: number;
  /** Host TSC frequency for the guest's `tsc_early_khz` under TCG; read from the host when unset. */
  readonly tscKhz: number | undefined;
  /** Templates to build warm at start (comma separated). Default `minimal`. */
  readonly prewarmTemplates: readonly string[];
  /** Extra guest kernel arguments appended to the agent's own (for debugging). */
  readonly extraKernelArgs: string;
  /** Deadline for a cold boot to envd answering. Default 120 s (TCG is slow). */
  readonly bootTimeoutMs: number;
  /** Deadline for a restore to envd answering. Default 30 s. */
  readonly restoreTimeoutMs: number;
  /**
   * Memory of a capsule whose request says 0, and of the warm pool's clones. Default 512 MiB, the control plane's
   * default (`POST /v1/capsules`), so the pool serves the capsules the API asks for.
   */
  readonly defaultMemoryMb: number;
  /** How often the agent heartbeats to the control plane. Default 30 s (the control plane's 90 s timeout is three). */
  readonly heartbeatIntervalMs: number;
  readonly logLevel: string;
  /**
   * Test-only fault injection (comma list): `pause-after-save` fails a pause after the VM was stopped and saved,
   * `resume-after-start` fails a resume after the guest started running. Never set in production.
   */
  readonly failpoints: ReadonlySet<string>;
}

/** Parses the environment; throws one error listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  // Empty means unset, except where empty is a meaningful choice ("prewarm nothing").
  const keepEmpty = new Set(["AGENT_PREWARM_TEMPLATES"]);
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && (v !== "" || keepEmpty.has(k))),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid agent configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return Object.freeze({
    listenAddr: e.AGENT_LISTEN_ADDR,
    rootDir: e.AGENT_FILES_ROOTDIR,
    cpUrl: e.AGENT_CP_URL,
    agentKey: e.AGENT_KEY,
    qemuBin: e.AGENT_QEMU_BIN,
    qemuImgBin: e.AGENT_QEMU_IMG_BIN,
    accel: e.AGENT_ACCEL,
    poolSize: e.AGENT_POOL_SIZE,
    tscKhz: e.AGENT_TSC_KHZ,
    prewarmTemplates: Object.freeze(
      e.AGENT_PREWARM_TEMPLATES.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    extraKernelArgs: e.AGENT_KERNEL_ARGS,
    bootTimeoutMs: e.AGENT_BOOT_TIMEOUT_SEC * 1000,
    restoreTimeoutMs: e.AGENT_RESTORE_TIMEOUT_SEC * 1000,
    defaultMemoryMb: e.AGENT_DEFAULT_MEMORY_MB,
    heartbeatIntervalMs: e.AGENT_HEARTBEAT_INTERVAL_SEC * 1000,
    logLevel: e.LOG_LEVEL,
    failpoints: new Set(
      e.AGENT_FAILPOINTS.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  });
}

/** Splits `host:port` / `:port` into parts; an empty host means all interfaces. */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  if (i < 0) throw new Error(`listen address "${addr}" must look like host:port or :port`);
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in listen address "${addr}"`);
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ""), port };
}
