import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ENCRYPTION_KEY_PATTERN, persistedEncryptionKey } from "./channels/encryption-key.ts";
import { type OAuthConfig, oauthConfigFromEnv } from "./oauth/oauth-config.ts";

/** Scheduling strategies the control plane knows (see services/scheduler.ts). */
export const SCHEDULERS = ["least-loaded", "round-robin", "single-host"] as const;

const envSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  CP_LISTEN_ADDR: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^:]*):\d{1,5}$/, "must look like host:port or :port")
    .default(":8000"),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  WRENN_DATA_DIR: z.string().min(1).optional(),
  CP_PUBLIC_URL: z.string().url().optional(),
  CP_SCHEDULER: z.enum(SCHEDULERS).default("least-loaded"),
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_USERNAME: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM_EMAIL: z.string().default("noreply@wrenn.dev"),
  CP_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  CP_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(20),
  CP_CAPSULE_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  CP_HEARTBEAT_TIMEOUT_SEC: z.coerce.number().int().min(3).max(3600).default(90),
  CP_HOST_MONITOR_INTERVAL_SEC: z.coerce.number().int().min(1).max(3600).default(15),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  WRENN_ENCRYPTION_KEY: z.string().regex(ENCRYPTION_KEY_PATTERN, "must be 64 hex characters (32 bytes)").optional(),
  WRENN_TELEGRAM_API_URL: z.string().url().default("https://api.telegram.org"),
  OAUTH_GITHUB_CLIENT_ID: z.string().optional(),
  OAUTH_GITHUB_CLIENT_SECRET: z.string().optional(),
  OAUTH_GITHUB_URL: z.string().url().default("https://github.com"),
  OAUTH_GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  OAUTH_REDIRECT_URL: z.string().url().optional(),
});

/** SMTP settings; absent when `SMTP_HOST` is unset (activation links are logged instead). */
export interface SmtpConfig {
  host: string;
  port: number;
  username?: string;
  password?: string;
  from: string;
}

/** The control plane's configuration, parsed once at start and passed down frozen. */
export interface Config {
  /** PostgreSQL URL; undefined means the embedded PGlite database in `<dataDir>/db`. */
  databaseUrl?: string;
  listenHost: string;
  listenPort: number;
  jwtSecret: string;
  dataDir: string;
  /** Base URL users reach the API at; used in activation links. */
  publicUrl: string;
  scheduler: (typeof SCHEDULERS)[number];
  smtp?: SmtpConfig;
  logLevel: string;
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`; unset, it is open. */
  metricsToken?: string;
  /** PostgreSQL connection pool size of this replica. */
  dbPoolSize: number;
  /** How long `GET /v1/capsules/{id}` may answer from memory (other replicas' changes show within it); 0 disables. */
  capsuleCacheMs: number;
  /**
   * A host silent this long becomes `unreachable` and its capsules `missing` (reference: 90 s, three missed 30 s
   * heartbeats). Keep it at least three times the agents' `AGENT_HEARTBEAT_INTERVAL_SEC`.
   */
  heartbeatTimeoutMs: number;
  /** How often the host monitor looks for silent hosts and reconciles online ones (reference: 15 s). */
  hostMonitorIntervalMs: number;
  /** AES-256 key (64 hex) of channel configs; generated once into `<dataDir>/encryption-key` when unset. */
  encryptionKey: string;
  /** Telegram Bot API base URL (a proxy or a test server instead of https://api.telegram.org). */
  telegramApiUrl: string;
  /** GitHub sign-in and where its callback sends the browser; loadConfig always sets it. */
  oauth?: OAuthConfig;
}

/** Thrown when the environment is invalid; lists every offending variable. */
export class ConfigError extends Error {}

/**
 * Reads the configuration from an environment (normally `process.env`). A missing
 * `JWT_SECRET` is generated once and persisted in the data dir so restarts keep sessions.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = e.WRENN_DATA_DIR ?? join(homedir(), ".local", "share", "wrenn");
  const { host, port } = parseListenAddr(e.CP_LISTEN_ADDR);
  const config: Config = {
    databaseUrl: e.DATABASE_URL,
    listenHost: host,
    listenPort: port,
    jwtSecret: e.JWT_SECRET ?? persistedSecret(dataDir),
    dataDir,
    publicUrl: (e.CP_PUBLIC_URL ?? `http://${host === "0.0.0.0" ? "localhost" : host}:${port}`).replace(/\/$/, ""),
    scheduler: e.CP_SCHEDULER,
    smtp: e.SMTP_HOST
      ? {
          host: e.SMTP_HOST,
          port: e.SMTP_PORT,
          username: e.SMTP_USERNAME,
          password: e.SMTP_PASSWORD,
          from: e.SMTP_FROM_EMAIL,
        }
      : undefined,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.CP_METRICS_TOKEN,
    dbPoolSize: e.CP_DB_POOL_SIZE,
    capsuleCacheMs: e.CP_CAPSULE_CACHE_MS,
    heartbeatTimeoutMs: e.CP_HEARTBEAT_TIMEOUT_SEC * 1000,
    hostMonitorIntervalMs: e.CP_HOST_MONITOR_INTERVAL_SEC * 1000,
    encryptionKey: (e.WRENN_ENCRYPTION_KEY ?? persistedEncryptionKey(dataDir)).toLowerCase(),
    telegramApiUrl: e.WRENN_TELEGRAM_API_URL,
  };
  const oauth = oauthConfigFromEnv(e, config.publicUrl);
  if (oauth.problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${oauth.problems.join("\n  ")}`);
  return Object.freeze({ ...config, oauth: oauth.config });
}

/** Splits `host:port` / `:port` / `[::1]:port`; an empty host means every interface. */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  const rawHost = addr.slice(0, i).replace(/^\[|\]$/g, "");
  return { host: rawHost === "" ? "0.0.0.0" : rawHost, port: Number(addr.slice(i + 1)) };
}

function persistedSecret(dataDir: string): string {
  const file = join(dataDir, "jwt-secret");
  if (existsSync(file)) {
    const s = readFileSync(file, "utf8").trim();
    if (s.length >= 32) return s;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
