import swagger from "@fastify/swagger";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { AgentPool } from "./agents/agent-pool.ts";
import type { Database } from "./db/schema.ts";
import { installErrorHandler } from "./http/error-handler.ts";
import { installPortProxy } from "./http/port-proxy/install-port-proxy.ts";
import { createPortProxy } from "./http/port-proxy/port-proxy.ts";
import { installRequestLog } from "./http/request-log.ts";
import { adminRoutes } from "./http/routes/admin/index.ts";
import { adminBuildRoutes } from "./http/routes/admin-builds/index.ts";
import { adminCapsuleRoutes } from "./http/routes/admin-capsules/index.ts";
import { adminTemplateRoutes } from "./http/routes/admin-templates/index.ts";
import { apiKeyRoutes } from "./http/routes/api-keys/index.ts";
import { auditLogRoutes } from "./http/routes/audit-logs/index.ts";
import { authRoutes } from "./http/routes/auth/index.ts";
import { capsuleRoutes } from "./http/routes/capsules/index.ts";
import { channelRoutes } from "./http/routes/channels/index.ts";
import { hostRoutes } from "./http/routes/hosts/index.ts";
import { meRoutes } from "./http/routes/me/index.ts";
import { oauthRoutes } from "./http/routes/oauth/index.ts";
import { snapshotRoutes } from "./http/routes/snapshots/index.ts";
import { systemRoutes, VERSION } from "./http/routes/system/index.ts";
import { teamRoutes } from "./http/routes/teams/index.ts";
import type { App } from "./http/types.ts";
import { type CpMetrics, cpPrometheusPlugin, createCpMetrics } from "./metrics/index.ts";
import type { OAuthConfig } from "./oauth/index.ts";
import { createServices, type Services } from "./services/container.ts";
import { createMailer, type Mailer } from "./services/mailer.ts";
import { leastLoaded, type Scheduler } from "./services/scheduler.ts";

/** Everything the HTTP app is built from; tests pass fakes for agents and mail. */
export interface AppDeps {
  db: Kysely<Database>;
  logger: Logger;
  jwtSecret: string;
  /** Base URL used in emailed links. */
  publicUrl: string;
  /** GitHub sign-in (reference §7); absent means disabled. */
  oauth?: OAuthConfig;
  scheduler?: Scheduler;
  agents?: AgentPool;
  mailer?: Mailer;
  /** API-key cache window in ms (default 5000). */
  keyCacheMs?: number;
  /** `GET /v1/capsules/{id}` cache window in ms (default 1000; 0 disables). */
  capsuleCacheMs?: number;
  /** Called when an unreachable host heartbeats again (the host monitor reconciles it). */
  onHostBack?: (hostId: string) => void;
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** AES-256 key of channel configs (`WRENN_ENCRYPTION_KEY`); tests leave it out. */
  encryptionKey?: Buffer;
  /** Telegram Bot API base URL (`WRENN_TELEGRAM_API_URL`). */
  telegramApiUrl?: string;
}

/** Builds the Fastify app with every route; does not listen. */
export async function buildApp(
  deps: AppDeps,
): Promise<{ app: FastifyInstance; services: Services; cpMetrics: CpMetrics }> {
  const services = createServices({
    db: deps.db,
    log: deps.logger,
    agents: deps.agents ?? new AgentPool(),
    mailer: deps.mailer ?? createMailer(undefined, deps.logger),
    scheduler: deps.scheduler ?? leastLoaded,
    jwtSecret: deps.jwtSecret,
    publicUrl: deps.publicUrl,
    oauth: deps.oauth,
    keyCacheMs: deps.keyCacheMs,
    capsuleCacheMs: deps.capsuleCacheMs,
    encryptionKey: deps.encryptionKey,
    telegramApiUrl: deps.telegramApiUrl,
  });
  const fastify = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 10 * 1024 * 1024,
    requestTimeout: 0,
    // The reference: ReadHeaderTimeout 10 s, IdleTimeout 620 s.
    keepAliveTimeout: 620_000,
    return503OnClosing: true,
    // installRequestLog writes one line per request instead, at debug for successful reads.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const app = fastify.withTypeProvider<ZodTypeProvider>() as unknown as App;
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; answers are plain JSON.stringify (no per-response validation cost).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Empty JSON bodies (agents posting heartbeats, clients posting `{}`-less creates) parse as undefined.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error("body is not valid JSON"), { statusCode: 400 }), undefined);
    }
  });
  // Declared up front so every request object keeps one shape (V8 deoptimises objects that grow later).
  app.decorateRequest("auth", null as never);
  installErrorHandler(app as unknown as FastifyInstance);
  installRequestLog(app as unknown as FastifyInstance);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Wrenn API", version: VERSION, description: "Capsules (microVMs), teams, API keys and hosts." },
      components: {
        securitySchemes: {
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          hostToken: { type: "apiKey", in: "header", name: "X-Host-Token" },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  // Registered at the root before any route so its hooks see every request.
  const cpMetrics = createCpMetrics(services.db);
  await app.register(cpPrometheusPlugin, { metrics: cpMetrics, token: deps.metricsToken });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  await app.register(systemRoutes);
  await app.register(authRoutes, { s: services });
  await app.register(meRoutes, { s: services });
  await app.register(oauthRoutes, { s: services });
  await app.register(apiKeyRoutes, { s: services });
  await app.register(teamRoutes, { s: services });
  await app.register(hostRoutes, { s: services, onHostBack: deps.onHostBack ?? (() => {}) });
  await app.register(capsuleRoutes, { s: services });
  await app.register(snapshotRoutes, { s: services });
  await app.register(adminRoutes, { s: services });
  await app.register(adminBuildRoutes, { s: services });
  await app.register(channelRoutes, { s: services });
  await app.register(auditLogRoutes, { s: services });
  await app.register(adminCapsuleRoutes, { s: services });
  await app.register(adminTemplateRoutes, { s: services });
  // Host-routed before any route (and before @fastify/websocket's Upgrade handling), so wrapped once all are in.
  const portProxy = createPortProxy({ targets: services.proxyTargets, log: deps.logger });
  app.addHook("onReady", async () => installPortProxy(app.server, portProxy));
  app.addHook("preClose", async () => portProxy.close());
  return { app: app as unknown as FastifyInstance, services, cpMetrics };
}
