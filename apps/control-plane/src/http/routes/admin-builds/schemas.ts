import { z } from "zod";
import { SafeName } from "../../schemas.ts";

/** A build's settings: the JSON body of `POST /v1/admin/builds`, or its multipart field `config` (reference §1.2). */
export const BuildConfig = z
  .object({
    name: SafeName.describe("The platform template to create or overwrite"),
    base_template: SafeName.default("minimal").describe("Platform template the build capsule starts from"),
    recipe: z
      .array(z.string().max(16_384))
      .max(1000)
      .default([])
      .describe("One instruction per element: RUN [--timeout=30s], START, ENV K=V, WORKDIR, USER, COPY src… dst"),
    healthcheck: z
      .string()
      .max(4096)
      .default("")
      .describe("[--interval=3s] [--timeout=10s] [--start-period=0] [--retries=0] <command>; empty for none"),
    vcpus: z.number().int().min(1).max(64).default(1),
    memory_mb: z.number().int().min(128).max(262_144).default(512),
    skip_pre_post: z.boolean().default(false).describe("Skip the apt update / wrenn-user / clean-up steps"),
  })
  .describe("BuildConfig");

const BuildLogEntry = z.object({
  step: z.number().int(),
  phase: z.string().describe("pre-build, recipe or post-build"),
  cmd: z.string(),
  stdout: z.string(),
  stderr: z.string(),
  exit: z.number().int(),
  ok: z.boolean(),
  elapsed_ms: z.number().int(),
});

/** A template build (reference §1.2 `GET /v1/admin/builds/{id}`). */
export const Build = z
  .object({
    id: z.string(),
    name: z.string(),
    base_template: z.string(),
    recipe: z.array(z.string()),
    healthcheck: z.string(),
    vcpus: z.number().int(),
    memory_mb: z.number().int(),
    skip_pre_post: z.boolean(),
    status: z.enum(["pending", "running", "success", "failed", "cancelled"]),
    current_step: z.number().int(),
    total_steps: z.number().int(),
    logs: z.array(BuildLogEntry),
    error: z.string().nullable().describe('"<phase> step N failed: <stderr or exit code>" when failed'),
    sandbox_id: z.string().nullable().describe("The build capsule"),
    host_id: z.string().nullable(),
    default_user: z.string().nullable(),
    default_env: z.record(z.string(), z.string()).nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
  })
  .describe("Build");
