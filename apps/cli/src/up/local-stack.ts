/**
 * `startLocalStack`: the control plane (embedded database unless `databaseUrl`), one host agent registered to it,
 * and the credentials to use them — everything `wrenn up` runs, reusable by tests in a temporary data directory.
 */

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { runBootstrap } from "./bootstrap.ts";
import { freePort } from "./free-port.ts";
import { ManagedProcess } from "./managed-process.ts";
import { api, destroyAllCapsules, loginJwt } from "./stack-api.ts";
import { REPO_ROOT, readState, type StackState, stackLayout, writePrivateJson } from "./stack-layout.ts";
import { StopWaiting, waitFor } from "./wait-for.ts";

/** The admin account `wrenn up` creates. */
export const ADMIN_EMAIL = "admin@wrenn.local";

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Data directory (database, state, logs, pid files). */
  dataDir: string;
  /** Control plane port on 127.0.0.1 (default 8000; 0 picks a free one). */
  cpPort?: number;
  /** Host agent port on 127.0.0.1 (default 50051; 0 picks a free one). */
  agentPort?: number;
  /** The agent's files root (default `/var/lib/wrenn`). */
  filesRootDir?: string;
  /** When set, `kernels/` and `images/` of the files root are links to these folders here (tests share images). */
  sharedImagesDir?: string;
  /** PostgreSQL URL; unset = the embedded database in the data directory. */
  databaseUrl?: string;
  /** Extra environment of the control plane / the agent (e.g. `AGENT_POOL_SIZE`). */
  cpEnv?: NodeJS.ProcessEnv;
  agentEnv?: NodeJS.ProcessEnv;
  /** Leave the processes running when this process exits (`wrenn up --detach`). */
  detached?: boolean;
  /** Called with a line per step, for progress output. */
  onStep?: (message: string) => void;
  /** Deadline for the host to come online (default 15 min: the agent may warm a template under TCG first). */
  hostTimeoutMs?: number;
}

/** A running stack. */
export interface LocalStack {
  baseUrl: string;
  apiKey: string;
  /** A user JWT of the admin (valid for hours). */
  jwt: string;
  hostId: string;
  dataDir: string;
  filesRootDir: string;
  agentAddress: string;
  adminEmail: string;
  /** Set only on the first start: the generated admin password (also in `<dataDir>/state.json`). */
  adminPassword?: string;
  isFirstStart: boolean;
  controlPlane: ManagedProcess;
  agent: ManagedProcess;
  /** Destroys capsules left over, stops the agent and the control plane. */
  stop(): Promise<void>;
}

/** Starts the stack and resolves once the host is online. On failure, what was started is stopped again. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const step = options.onStep ?? (() => {});
  const layout = stackLayout(options.dataDir);
  const filesRootDir = options.filesRootDir ?? "/var/lib/wrenn";
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  prepareFilesRoot(filesRootDir, options.sharedImagesDir);

  const cpPort = options.cpPort === 0 ? await freePort() : (options.cpPort ?? 8000);
  const agentPort = options.agentPort === 0 ? await freePort() : (options.agentPort ?? 50051);
  const baseUrl = `http://127.0.0.1:${cpPort}`;
  const agentAddress = `127.0.0.1:${agentPort}`;
  const cpEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.cpEnv,
    CP_LISTEN_ADDR: `127.0.0.1:${cpPort}`,
    WRENN_DATA_DIR: options.dataDir,
  };
  if (options.databaseUrl) cpEnv.DATABASE_URL = options.databaseUrl;
  else delete cpEnv.DATABASE_URL;

  let state = readState(layout.state);
  const isFirstStart = !state;
  let registrationToken: string | undefined;
  let jwt: string | undefined;
  let adminPassword: string | undefined;
  if (!state) {
    step("creating the admin account and an API key");
    adminPassword = randomBytes(12).toString("base64url");
    const boot = await runBootstrap(ADMIN_EMAIL, adminPassword, cpEnv);
    state = {
      email: boot.email,
      password: adminPassword,
      api_key: boot.api_key,
      user_id: boot.user_id,
      team_id: boot.team_id,
      host_id: boot.host_id,
    };
    writePrivateJson(layout.state, state);
    registrationToken = boot.registration_token;
    jwt = boot.jwt;
  }

  const started: ManagedProcess[] = [];
  try {
    step(`starting the control plane on ${baseUrl}`);
    const cp = ManagedProcess.start({
      name: "control-plane",
      command: process.execPath,
      args: ["--import", "tsx", join(REPO_ROOT, "apps", "control-plane", "src", "main.ts")],
      env: cpEnv,
      cwd: REPO_ROOT,
      logFile: layout.cpLog,
      pidFile: layout.cpPid,
    });
    started.push(cp);
    await waitFor("the control plane's /health", async () => (await healthy(baseUrl, cp)) || undefined, {
      timeoutMs: 180_000,
    });

    jwt ??= await loginJwt(baseUrl, state.email, state.password);
    if (!registrationToken && !agentHasCredentials(filesRootDir, state.host_id)) {
      registrationToken = await freshRegistrationToken(baseUrl, jwt, state);
      writePrivateJson(layout.state, state);
    }

    step(`starting the host agent on ${agentAddress}${registrationToken ? " (registering it)" : ""}`);
    const agent = ManagedProcess.start({
      name: "host-agent",
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        join(REPO_ROOT, "apps", "host-agent", "src", "main.ts"),
        "--address",
        agentAddress,
        ...(registrationToken ? ["--register", registrationToken] : []),
      ],
      env: {
        ...process.env,
        ...options.agentEnv,
        AGENT_CP_URL: baseUrl,
        AGENT_LISTEN_ADDR: agentAddress,
        AGENT_FILES_ROOTDIR: filesRootDir,
      },
      cwd: REPO_ROOT,
      logFile: layout.agentLog,
      pidFile: layout.agentPid,
    });
    started.push(agent);

    step("waiting for the host to come online");
    const hostId = state.host_id;
    const token = jwt;
    await waitFor(
      `host ${hostId} to be online (agent log: ${layout.agentLog})`,
      async () => {
        if (!agent.isRunning) throw new StopWaiting(`the host agent exited:\n${agent.logTail()}`);
        const host = await api<{ status: string }>(baseUrl, `/v1/hosts/${hostId}`, { jwt: token });
        return host.status === "online" ? true : undefined;
      },
      { timeoutMs: options.hostTimeoutMs ?? 900_000, intervalMs: 1000 },
    );
    // The host is marked online when it registers, a few seconds before the agent's RPC port listens
    // (it probes the accelerator first); wait for the port so the first capsule is not refused.
    await waitFor(
      `the host agent to listen on ${agentAddress} (agent log: ${layout.agentLog})`,
      async () => {
        if (!agent.isRunning) throw new StopWaiting(`the host agent exited:\n${agent.logTail()}`);
        return (await acceptsConnections("127.0.0.1", agentPort)) || undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );

    writePrivateJson(layout.stackFile, {
      base_url: baseUrl,
      agent_address: agentAddress,
      files_root: filesRootDir,
      control_plane_pid: cp.pid,
      host_agent_pid: agent.pid,
    });
    if (options.detached) for (const p of started) p.detach();

    const apiKey = state.api_key;
    return {
      baseUrl,
      apiKey,
      jwt: token,
      hostId,
      dataDir: options.dataDir,
      filesRootDir,
      agentAddress,
      adminEmail: state.email,
      adminPassword,
      isFirstStart,
      controlPlane: cp,
      agent,
      stop: async () => {
        await destroyAllCapsules(baseUrl, apiKey).catch(() => 0);
        await agent.stop();
        await cp.stop();
      },
    };
  } catch (err) {
    for (const p of started.reverse()) await p.stop(5000);
    throw err;
  }
}

async function healthy(baseUrl: string, cp: ManagedProcess): Promise<boolean> {
  if (!cp.isRunning) throw new StopWaiting(`the control plane exited:\n${cp.logTail()}`);
  const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5000) });
  return res.ok;
}

/** Links the shared `kernels/` and `images/` into a private files root (tests); creates the root otherwise. */
function prepareFilesRoot(root: string, shared?: string): void {
  mkdirSync(root, { recursive: true });
  if (!shared || shared === root) return;
  for (const name of ["kernels", "images"]) {
    const link = join(root, name);
    if (!existsSync(link)) symlinkSync(join(shared, name), link);
  }
}

/** True when the agent saved credentials for this host, so it can start without `--register`. */
function agentHasCredentials(filesRootDir: string, hostId: string): boolean {
  try {
    const saved = JSON.parse(readFileSync(join(filesRootDir, "host-token"), "utf8")) as { host_id?: string };
    return saved.host_id === hostId;
  } catch {
    return false;
  }
}

/** A registration token for the saved host if it is still pending, else for a new host (state updated). */
async function freshRegistrationToken(baseUrl: string, jwt: string, state: StackState): Promise<string> {
  try {
    const r = await api<{ registration_token: string }>(baseUrl, `/v1/hosts/${state.host_id}/token`, {
      method: "POST",
      jwt,
    });
    return r.registration_token;
  } catch {
    const r = await api<{ host: { id: string }; registration_token: string }>(baseUrl, "/v1/hosts", {
      json: { type: "regular" },
      jwt,
    });
    state.host_id = r.host.id;
    return r.registration_token;
  }
}

/** True when a TCP connection to host:port succeeds. */
function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}
