import { z } from "zod";
import type { App } from "../../types.ts";
import { DASHBOARD_HTML } from "./dashboard-page.ts";
import { docsPage } from "./docs-page.ts";

/** Version reported by /health. */
export const VERSION = "0.1.0";

/** /health, /openapi.yaml (generated from the route schemas), /docs and the placeholder dashboard at /. */
export async function systemRoutes(app: App) {
  app.get("/", { schema: { hide: true } }, async (_req, reply) =>
    reply.type("text/html; charset=utf-8").send(DASHBOARD_HTML),
  );
  app.get(
    "/health",
    { schema: { tags: ["system"], response: { 200: z.object({ status: z.literal("ok"), version: z.string() }) } } },
    async () => ({ status: "ok" as const, version: VERSION }),
  );
  app.get("/openapi.yaml", { schema: { hide: true } }, async (_req, reply) =>
    reply.type("application/yaml; charset=utf-8").send(app.swagger({ yaml: true })),
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  app.get("/docs", { schema: { hide: true } }, async (_req, reply) =>
    reply.type("text/html; charset=utf-8").send(docsPage(app.swagger())),
  );
}
