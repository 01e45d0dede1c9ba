import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

/** Body of POST /exec. Unlike the reference, `envs` and `cwd` also apply in the foreground. */
export const ExecBody = z.object({
  cmd: z.string().min(1).max(65_536),
  args: z.array(z.string().max(1_048_576)).max(4096).default([]),
  timeout_sec: z.number().int().min(1).max(86_400).default(30),
  background: z.boolean().default(false),
  tag: z.string().min(1).max(128).optional(),
  envs: z.record(z.string(), z.string()).optional(),
  cwd: z.string().max(4096).optional(),
});

const Foreground = z.object({
  sandbox_id: z.string(),
  cmd: z.string(),
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().int(),
  duration_ms: z.number(),
  encoding: z.enum(["utf-8", "base64"]),
});
const Background = z.object({ sandbox_id: z.string(), cmd: z.string(), pid: z.number().int(), tag: z.string() });

/** POST /v1/capsules/{id}/exec: foreground (200, output) or background (202, pid + tag). */
export const execRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    `${at.base}/:id/exec`,
    {
      schema: {
        tags: at.tags ?? ["processes"],
        params: IdParams,
        body: ExecBody,
        response: { 200: Foreground, 202: Background, ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await s.ops.exec(req.auth.teamId, req.params.id, req.body);
      return reply.status(r.status).send(r.body);
    },
  );
};
