import type { FastifyInstance, InjectOptions } from "fastify";
import pino from "pino";
import { AgentPool } from "../agents/agent-pool.ts";
import { buildApp } from "../app.ts";
import type { DatabaseHandle } from "../db/database.ts";
import type { OAuthConfig } from "../oauth/index.ts";
import type { Services } from "../services/container.ts";
import type { Mail } from "../services/mailer.ts";
import { FakeAgentFleet } from "./fake-agent.ts";
import { openTestDatabase } from "./test-db.ts";

/** A signed-up, activated user and the JWT of their default team. */
export interface TestUser {
  token: string;
  user_id: string;
  team_id: string;
  email: string;
}

/** Credentials for a request: a user JWT or an API key. */
export type Cred = { jwt: string } | { key: string } | undefined;

/** A response with its JSON body decoded (undefined when the body is not JSON). */
export interface TestResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience.
  json: any;
  body: string;
  rawPayload: Buffer;
  headers: Record<string, unknown>;
}

/**
 * The control plane in-process for route tests: a fresh migrated database, fake agents behind
 * the real agent pool, captured mail, and helpers that go through the HTTP routes.
 */
export class Harness {
  readonly mail: Mail[] = [];
  readonly fleet = new FakeAgentFleet();
  app!: FastifyInstance;
  services!: Services;
  db!: DatabaseHandle;
  private seq = 0;

  /** `capsuleCacheMs` turns the capsule read cache on (off by default: tests write rows directly). */
  static async start(opts: { capsuleCacheMs?: number; oauth?: OAuthConfig } = {}): Promise<Harness> {
    const h = new Harness();
    h.db = await openTestDatabase();
    const built = await buildApp({
      db: h.db.db,
      logger: pino({ level: process.env.WRENN_TEST_LOG ?? "silent" }),
      jwtSecret: "test-secret-test-secret-test-secret!",
      publicUrl: "http://cp.test",
      oauth: opts.oauth,
      agents: new AgentPool(h.fleet.factory),
      mailer: { send: async (m) => void h.mail.push(m) },
      keyCacheMs: 0,
      // Tests write rows directly (bypassing the cache's write watch) and read them back through the API.
      capsuleCacheMs: opts.capsuleCacheMs ?? 0,
    });
    h.app = built.app;
    h.services = built.services;
    await h.app.ready();
    return h;
  }

  /** Sends a request through `app.inject`. */
  async req(
    method: InjectOptions["method"],
    url: string,
    cred?: Cred,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> {
    const h: Record<string, string> = { ...headers };
    if (cred && "jwt" in cred) h.authorization = `Bearer ${cred.jwt}`;
    if (cred && "key" in cred) h["x-api-key"] = cred.key;
    const r = await this.app.inject({
      method,
      url,
      headers: h,
      ...(body !== undefined ? { payload: body as string } : {}),
    });
    let json: unknown;
    try {
      json = r.body ? JSON.parse(r.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.statusCode, json, body: r.body, rawPayload: r.rawPayload, headers: r.headers };
  }

  /** Signs up and activates a user through the routes (the activation token comes from the captured mail). */
  async user(name = `user${++this.seq}`): Promise<TestUser> {
    const email = `${name}-${this.seq}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const s = await this.req("POST", "/v1/auth/signup", undefined, { email, password: "password123", name });
    if (s.status !== 201) throw new Error(`signup failed: ${s.body}`);
    const m = this.mail.findLast((x) => x.to === email);
    const token = /Activation token: ([0-9a-f]+)/.exec(m?.text ?? "")?.[1];
    const a = await this.req("POST", "/v1/auth/activate", undefined, { token });
    if (a.status !== 200) throw new Error(`activate failed: ${a.body}`);
    return a.json as TestUser;
  }

  /** A fresh API key of the user's current team. */
  async apiKey(u: TestUser): Promise<string> {
    const r = await this.req("POST", "/v1/api-keys", { jwt: u.token }, { name: "test" });
    if (r.status !== 201) throw new Error(`api key failed: ${r.body}`);
    return r.json.key as string;
  }

  /** Creates (as `admin`) and registers a regular host at `address`; returns its credentials. */
  async onlineHost(admin: TestUser, address = `10.0.0.${++this.seq}:50051`, memoryMb = 65536) {
    const c = await this.req("POST", "/v1/hosts", { jwt: admin.token }, { type: "regular" });
    if (c.status !== 201) throw new Error(`host create failed: ${c.body}`);
    const r = await this.req("POST", "/v1/hosts/register", undefined, {
      token: c.json.registration_token,
      arch: "amd64",
      cpu_cores: 16,
      memory_mb: memoryMb,
      disk_gb: 500,
      address,
    });
    if (r.status !== 201) throw new Error(`register failed: ${r.body}`);
    return { hostId: r.json.host.id as string, creds: r.json, agent: this.fleet.at(address) };
  }

  /** A running capsule of the key's team. */
  async capsule(key: string, body: Record<string, unknown> = {}): Promise<string> {
    const r = await this.req("POST", "/v1/capsules", { key }, body);
    if (r.status !== 201) throw new Error(`capsule create failed: ${r.body}`);
    return r.json.id as string;
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.db.close();
  }
}
