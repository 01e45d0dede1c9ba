import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

const Tag = z.string().trim().min(1).max(64);

/** GET /v1/hosts/{id}/tags. */
export const listTagsRoute: Route = (app, s) => {
  app.get(
    "/v1/hosts/:id/tags",
    { schema: { tags: ["hosts"], params: IdParams, response: { 200: z.array(z.string()), ...errorResponses } } },
    async (req) => s.hosts.tags(req.auth, req.params.id),
  );
};

/** POST /v1/hosts/{id}/tags: `{tag}` → 204. */
export const addTagRoute: Route = (app, s) => {
  app.post(
    "/v1/hosts/:id/tags",
    {
      schema: {
        tags: ["hosts"],
        params: IdParams,
        body: z.object({ tag: Tag }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.hosts.addTag(req.auth, req.params.id, req.body.tag);
      return reply.status(204).send(null);
    },
  );
};

/** DELETE /v1/hosts/{id}/tags/{tag}. */
export const removeTagRoute: Route = (app, s) => {
  app.delete(
    "/v1/hosts/:id/tags/:tag",
    {
      schema: {
        tags: ["hosts"],
        params: z.object({ id: z.string().min(1).max(200), tag: Tag }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.hosts.removeTag(req.auth, req.params.id, req.params.tag);
      return reply.status(204).send(null);
    },
  );
};
