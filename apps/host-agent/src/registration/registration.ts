/**
 * Registration with the control plane (reference §8): `--register` trades the one-hour token for credentials saved
 * in host-token; later starts reuse them. Heartbeats every 30 s; 401/403 → refresh; 404 → the host was deleted
 * (credentials removed, `onHostDeleted`). With AGENT_CP_URL unset the agent is standalone and this does nothing.
 */
import { statfs } from "node:fs/promises";
import { arch, availableParallelism, totalmem } from "node:os";
import type { AgentConfig } from "../config.ts";
import { AgentError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { hostLayout } from "../storage/layout.ts";
import { heartbeat, type IssuedCredentials, refreshCredentials, registerHost } from "./cp-client.ts";
import {
  deleteCredentials,
  type HostCredentials,
  jwtSecondsLeft,
  loadCredentials,
  saveCredentials,
} from "./credentials.ts";

/** Heartbeat period (reference: 30 s). */
export const HEARTBEAT_INTERVAL_MS = 30_000;
/** Refresh the host JWT when it has less than this left. */
const REFRESH_BEFORE_SEC = 24 * 3600;

/** Options of registration. */
export interface RegistrationOptions {
  readonly config: AgentConfig;
  readonly log: Logger;
  /** One-hour registration token (`--register`): always re-registers. */
  readonly register: string | undefined;
  /** host:port the control plane should call (`--address`). */
  readonly address: string | undefined;
  readonly metadata?: Record<string, string>;
  readonly onHostDeleted: () => void;
  /**
   * Called once per outage when this many heartbeats in a row failed (`CP_LOST_AFTER_FAILURES`): the agent pauses
   * its capsules rather than leave them running unmanaged. Heartbeats keep being retried.
   */
  readonly onControlPlaneLost?: () => void;
}

/** Consecutive failed heartbeats (network errors, failed refresh, 5xx) after which the control plane counts as lost. */
export const CP_LOST_AFTER_FAILURES = 3;

/** Credentials in effect (undefined when standalone). */
export async function obtainCredentials(o: RegistrationOptions): Promise<HostCredentials | undefined> {
  const cpUrl = o.config.cpUrl;
  if (!cpUrl) return undefined;
  const path = hostLayout(o.config.rootDir).hostToken;
  if (!o.register) {
    const saved = await loadCredentials(path);
    if (!saved)
      throw new AgentError("unauthenticated", "this host is not registered: start once with --register <token>");
    return saved;
  }
  if (!o.address) throw new AgentError("invalid_argument", "--register needs --address host:port");
  const disk = await statfs(o.config.rootDir).catch(() => undefined);
  const issued = await registerHost(cpUrl, o.register, {
    arch: arch() === "x64" ? "amd64" : arch(),
    cpu_cores: availableParallelism(),
    memory_mb: Math.floor(totalmem() / 1024 / 1024),
    disk_gb: disk ? Math.floor((disk.blocks * disk.bsize) / 1024 ** 3) : 0,
    address: o.address,
  });
  const creds = toSaved(issued, cpUrl);
  await saveCredentials(path, creds);
  o.log.info({ hostId: creds.host_id }, "registered with the control plane");
  return creds;
}

/** Starts heartbeats with `creds` every `intervalMs` (default 30 s); `stop()` ends them. */
export function startHeartbeats(o: RegistrationOptions, initial: HostCredentials, intervalMs = HEARTBEAT_INTERVAL_MS) {
  const path = hostLayout(o.config.rootDir).hostToken;
  let creds = initial;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const refresh = async () => {
    creds = toSaved(await refreshCredentials(creds.cp_url, creds.refresh_token), creds.cp_url);
    await saveCredentials(path, creds);
    o.log.info("host credentials refreshed");
  };

  const beat = async () => {
    try {
      const left = jwtSecondsLeft(creds.token);
      if (left !== undefined && left < REFRESH_BEFORE_SEC) await refresh();
      let status = await heartbeat(creds.cp_url, creds.host_id, creds.token, o.metadata ?? {});
      if (status === 401 || status === 403) {
        await refresh();
        status = await heartbeat(creds.cp_url, creds.host_id, creds.token, o.metadata ?? {});
      }
      if (status === 404) {
        o.log.warn("the control plane deleted this host; removing credentials and shutting down");
        await deleteCredentials(path);
        stop();
        o.onHostDeleted();
        return;
      }
      if (status >= 300) throw new AgentError("unavailable", `heartbeat answered HTTP ${status}`);
      failures = 0;
    } catch (err) {
      failures++;
      o.log.warn({ failures, err: AgentError.from(err).message }, "heartbeat failed");
      if (failures === CP_LOST_AFTER_FAILURES) {
        o.log.error({ failures }, "control plane lost; pausing every running capsule");
        o.onControlPlaneLost?.();
      }
    }
  };

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  void beat();
  timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return { stop };
}

function toSaved(issued: IssuedCredentials, cpUrl: string): HostCredentials {
  return {
    host_id: issued.host.id,
    token: issued.token,
    refresh_token: issued.refresh_token,
    agent_key: issued.agent_key,
    cp_url: cpUrl,
  };
}
