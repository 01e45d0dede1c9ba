import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { createApiKeyRoute } from "./create-api-key.ts";
import { deleteApiKeyRoute } from "./delete-api-key.ts";
import { listApiKeysRoute } from "./list-api-keys.ts";

/** /v1/api-keys: user JWT only (a key cannot mint keys). */
export async function apiKeyRoutes(app: App, opts: { s: Services }) {
  requireAuth(app, opts.s.authn, { apiKey: false });
  registerRoutes(app, opts.s, [createApiKeyRoute, listApiKeysRoute, deleteApiKeyRoute]);
}
