import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { errors } from "../../../errors.ts";
import type { Services } from "../../../services/container.ts";
import { errorResponses } from "../../schemas.ts";
import type { App } from "../../types.ts";
import { Build, BuildConfig } from "./schemas.ts";

/** Archive upload cap (reference: 100 MB, 413 `too_large`). */
export const MAX_ARCHIVE_BYTES = 100 * 1024 * 1024;

/**
 * POST /v1/admin/builds: validates and queues a build, 201 Build. JSON `BuildConfig`, or multipart with the field
 * `config` (that JSON) and an optional file `archive` (tar, tar.gz or zip). Recipe errors are 400 with the line.
 */
export function createBuildRoute(app: App, s: Services): void {
  app.post(
    "/v1/admin/builds",
    {
      schema: {
        tags: ["admin"],
        consumes: ["application/json", "multipart/form-data"],
        // Optional: a multipart request has no parsed body; its `config` field is checked below.
        body: BuildConfig.nullish(),
        response: { 201: Build, 413: errorResponses[400], ...errorResponses },
      },
    },
    async (req, reply) => {
      const { config, archive } = req.isMultipart()
        ? await readMultipart(req)
        : { config: req.body, archive: undefined };
      if (!config) throw errors.invalidRequest("body must be a build config (JSON, or multipart field config)");
      return reply.status(201).send(await s.builds.submit(req.auth, config, archive));
    },
  );
}

async function readMultipart(req: FastifyRequest): Promise<{ config?: z.infer<typeof BuildConfig>; archive?: Buffer }> {
  let configText: string | undefined;
  let archive: Buffer | undefined;
  for await (const part of req.parts({ limits: { fileSize: MAX_ARCHIVE_BYTES, files: 1, fields: 4 } })) {
    if (part.type === "file") {
      if (part.fieldname !== "archive") throw errors.invalidRequest(`unexpected file field ${part.fieldname}`);
      archive = await part.toBuffer();
      if (part.file.truncated) throw errors.tooLarge(MAX_ARCHIVE_BYTES);
    } else if (part.fieldname === "config") {
      configText = String(part.value);
    }
  }
  if (configText === undefined) throw errors.invalidRequest("multipart field config is required");
  let json: unknown;
  try {
    json = JSON.parse(configText);
  } catch {
    throw errors.invalidRequest("field config is not valid JSON");
  }
  const parsed = BuildConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw errors.invalidRequest(`config: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return { config: parsed.data, archive: archive && archive.length > 0 ? archive : undefined };
}
