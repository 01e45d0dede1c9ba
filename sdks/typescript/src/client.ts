/**
 * `WrennClient`: the low-level REST client, one method per route. `Capsule` is built on it; the CLI uses it
 * directly. Host administration needs a user JWT (`token`), everything else an API key.
 */
import { Commands } from "./commands.ts";
import { type ConnectionOptions, requireCredentials, resolveConfig } from "./config.ts";
import { Files } from "./files.ts";
import {
  type CapsuleInfo,
  type HostInfo,
  type TemplateInfo,
  toCapsuleInfo,
  toHostInfo,
  toTemplateInfo,
} from "./models.ts";
import { createTransport, LONG_REQUEST_TIMEOUT_MS, type Transport } from "./transport.ts";

/** Options of a call. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Parameters of a new capsule. */
export interface CreateCapsuleParams {
  /** Template name (default `minimal`). */
  template?: string;
  vcpus?: number;
  memoryMb?: number;
  /** Inactivity timeout in seconds after which the capsule is paused; 0 = never. */
  timeoutSec?: number;
}

type Json = Record<string, unknown>;

/** The answer of host creation: the host and its one-hour registration token. */
export interface HostRegistration {
  host: HostInfo;
  registrationToken: string;
}

/** REST client for the control plane. */
export class WrennClient {
  /** @internal */
  readonly transport: Transport;
  readonly capsules: CapsulesApi;
  readonly snapshots: SnapshotsApi;
  readonly hosts: HostsApi;

  constructor(options: ConnectionOptions = {}) {
    const config = resolveConfig(options);
    requireCredentials(config);
    this.transport = createTransport(config);
    this.capsules = new CapsulesApi(this.transport);
    this.snapshots = new SnapshotsApi(this.transport);
    this.hosts = new HostsApi(this.transport);
  }

  /** The control plane's URL. */
  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** File operations on a capsule, without fetching it first. */
  files(capsuleId: string): Files {
    return new Files(this.transport, capsuleId);
  }

  /** Process operations on a capsule, without fetching it first. */
  commands(capsuleId: string): Commands {
    return new Commands(this.transport, capsuleId);
  }

  /** `GET /health`: `{status, version}`. Needs no credentials. */
  health(options: CallOptions = {}): Promise<{ status: string; version?: string }> {
    return this.transport.json("/health", options);
  }
}

const cap = (id: string) => `/v1/capsules/${encodeURIComponent(id)}`;

/** `/v1/capsules` routes. */
export class CapsulesApi {
  /** @internal */
  constructor(readonly t: Transport) {}

  async create(params: CreateCapsuleParams = {}, options: CallOptions = {}): Promise<CapsuleInfo> {
    const json = {
      template: params.template,
      vcpus: params.vcpus,
      memory_mb: params.memoryMb,
      timeout_sec: params.timeoutSec,
    };
    return toCapsuleInfo(
      await this.t.json<Json>("/v1/capsules", { json, timeoutMs: LONG_REQUEST_TIMEOUT_MS, ...options }),
    );
  }

  async list(options: CallOptions = {}): Promise<CapsuleInfo[]> {
    const body = await this.t.json<Json[]>("/v1/capsules", options);
    return (body ?? []).map(toCapsuleInfo);
  }

  async get(id: string, options: CallOptions = {}): Promise<CapsuleInfo> {
    return toCapsuleInfo(await this.t.json<Json>(cap(id), options));
  }

  async destroy(id: string, options: CallOptions = {}): Promise<void> {
    await this.t.request(cap(id), { method: "DELETE", ...options });
  }

  async pause(id: string, options: CallOptions = {}): Promise<CapsuleInfo> {
    return toCapsuleInfo(
      await this.t.json<Json>(`${cap(id)}/pause`, { method: "POST", timeoutMs: LONG_REQUEST_TIMEOUT_MS, ...options }),
    );
  }

  async resume(id: string, options: CallOptions = {}): Promise<CapsuleInfo> {
    return toCapsuleInfo(
      await this.t.json<Json>(`${cap(id)}/resume`, { method: "POST", timeoutMs: LONG_REQUEST_TIMEOUT_MS, ...options }),
    );
  }

  async ping(id: string, options: CallOptions = {}): Promise<void> {
    await this.t.request(`${cap(id)}/ping`, { method: "POST", ...options });
  }
}

/** `/v1/snapshots` routes (templates made from capsules). */
export class SnapshotsApi {
  /** @internal */
  constructor(readonly t: Transport) {}

  /** Turns a running or paused capsule into a team template. The capsule stays paused afterwards. */
  async create(
    capsuleId: string,
    params: { name?: string; overwrite?: boolean } = {},
    options: CallOptions = {},
  ): Promise<TemplateInfo> {
    const body = await this.t.json<Json>("/v1/snapshots", {
      json: { sandbox_id: capsuleId, name: params.name },
      query: { overwrite: params.overwrite ? "true" : undefined },
      timeoutMs: LONG_REQUEST_TIMEOUT_MS,
      ...options,
    });
    return toTemplateInfo(body);
  }

  async list(params: { type?: "base" | "snapshot" } = {}, options: CallOptions = {}): Promise<TemplateInfo[]> {
    const body = await this.t.json<Json[]>("/v1/snapshots", { query: { type: params.type }, ...options });
    return (body ?? []).map(toTemplateInfo);
  }

  async delete(name: string, options: CallOptions = {}): Promise<void> {
    await this.t.request(`/v1/snapshots/${encodeURIComponent(name)}`, { method: "DELETE", ...options });
  }
}

/** `/v1/hosts` routes (need a user JWT: pass `token`). */
export class HostsApi {
  /** @internal */
  constructor(readonly t: Transport) {}

  /** Creates a host record and returns its one-hour registration token. */
  async create(
    params: { type?: "regular" | "byoc"; teamId?: string } = {},
    options: CallOptions = {},
  ): Promise<HostRegistration> {
    const body = await this.t.json<Json>("/v1/hosts", {
      json: { type: params.type ?? "regular", team_id: params.teamId },
      ...options,
    });
    return { host: toHostInfo(body.host as Json), registrationToken: String(body.registration_token) };
  }

  /** Issues a fresh registration token for a host that is still `pending`. */
  async createToken(hostId: string, options: CallOptions = {}): Promise<HostRegistration> {
    const body = await this.t.json<Json>(`/v1/hosts/${encodeURIComponent(hostId)}/token`, {
      method: "POST",
      ...options,
    });
    return { host: toHostInfo(body.host as Json), registrationToken: String(body.registration_token) };
  }

  async list(options: CallOptions = {}): Promise<HostInfo[]> {
    const body = await this.t.json<Json[]>("/v1/hosts", options);
    return (body ?? []).map(toHostInfo);
  }

  async get(id: string, options: CallOptions = {}): Promise<HostInfo> {
    return toHostInfo(await this.t.json<Json>(`/v1/hosts/${encodeURIComponent(id)}`, options));
  }
}

/** Logs in with email and password and returns the user JWT (`POST /v1/auth/login`). */
export async function login(
  email: string,
  password: string,
  options: { baseUrl?: string } & CallOptions = {},
): Promise<{ token: string; userId: string; teamId: string }> {
  const t = createTransport(resolveConfig({ baseUrl: options.baseUrl }));
  const body = await t.json<Json>("/v1/auth/login", { json: { email, password }, signal: options.signal });
  return { token: String(body.token), userId: String(body.user_id), teamId: String(body.team_id) };
}
