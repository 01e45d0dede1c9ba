import { z } from "zod";
import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { AnyObject, errorResponses, IdParams } from "../../schemas.ts";
import type { App } from "../../types.ts";

const Page = z.object({ page: z.coerce.number().int().min(1).max(1_000_000).default(1) });

/** /v1/admin/{users,teams}: platform admins only (user JWT + users.is_admin). */
export async function adminRoutes(app: App, opts: { s: Services }) {
  const { s } = opts;
  requireAuth(app, s.authn, { apiKey: false, admin: true });
  app.get(
    "/v1/admin/users",
    { schema: { tags: ["admin"], querystring: Page, response: { 200: AnyObject, ...errorResponses } } },
    async (req) => s.users.adminList(req.query.page),
  );
  app.put(
    "/v1/admin/users/:id/active",
    {
      schema: {
        tags: ["admin"],
        params: IdParams,
        body: z.object({ active: z.boolean() }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.users.adminSetActive(req.auth, req.params.id, req.body.active);
      return reply.status(204).send(null);
    },
  );
  app.get(
    "/v1/admin/teams",
    { schema: { tags: ["admin"], querystring: Page, response: { 200: AnyObject, ...errorResponses } } },
    async (req) => s.adminTeams.list(req.query.page),
  );
  app.put(
    "/v1/admin/teams/:id/byoc",
    {
      schema: {
        tags: ["admin"],
        params: IdParams,
        body: z.object({ enabled: z.boolean() }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.adminTeams.setByoc(req.auth, req.params.id, req.body.enabled);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    "/v1/admin/teams/:id",
    { schema: { tags: ["admin"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.adminTeams.remove(req.auth, req.params.id);
      return reply.status(204).send(null);
    },
  );
}
