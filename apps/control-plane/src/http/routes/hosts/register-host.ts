import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, HostCredentials } from "../../schemas.ts";

/** POST /v1/hosts/register: the agent trades its one-hour token and specs for long-lived credentials. */
export const registerHostRoute: Route = (app, s) => {
  app.post(
    "/v1/hosts/register",
    {
      schema: {
        tags: ["hosts"],
        body: z.object({
          token: z.string().min(1).max(256),
          arch: z.string().max(32).default(""),
          cpu_cores: z.number().int().min(0).max(100_000),
          memory_mb: z
            .number()
            .int()
            .min(0)
            .max(1 << 30),
          disk_gb: z
            .number()
            .int()
            .min(0)
            .max(1 << 30),
          address: z.string().regex(/^[^\s/]+:\d{1,5}$/, "must be host:port"),
        }),
        response: { 201: HostCredentials, ...errorResponses },
      },
    },
    async (req, reply) => {
      const creds = await s.registration.register(req.body);
      s.agents.evict(creds.host.id);
      req.log.info({ hostId: creds.host.id, address: creds.host.address }, "host registered");
      return reply.status(201).send(creds);
    },
  );
};

/** POST /v1/hosts/auth/refresh: rotates the host JWT and refresh token. */
export const refreshHostRoute: Route = (app, s) => {
  app.post(
    "/v1/hosts/auth/refresh",
    {
      schema: {
        tags: ["hosts"],
        body: z.object({ refresh_token: z.string().min(1).max(256) }),
        response: { 200: HostCredentials, ...errorResponses },
      },
    },
    async (req) => s.registration.refresh(req.body.refresh_token),
  );
};
