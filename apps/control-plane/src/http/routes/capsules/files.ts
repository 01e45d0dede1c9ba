import { z } from "zod";
import { errors } from "../../../errors.ts";
import type { Route } from "../../route.ts";
import { errorResponses, FileEntry, IdParams, RawBytes } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

/** Buffered upload cap (reference: 100 MB). */
export const MAX_BUFFERED_FILE_BYTES = 100 * 1024 * 1024;

const PathBody = z.object({ path: z.string().min(1).max(4096) });

/** POST /v1/capsules/{id}/files/write: multipart `path` + `file`, buffered, 413 `too_large` past 100 MB. */
export const writeFileRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    `${at.base}/:id/files/write`,
    {
      schema: {
        tags: at.tags ?? ["files"],
        params: IdParams,
        consumes: ["multipart/form-data"],
        response: { 204: z.null(), 413: errorResponses[400], ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw errors.invalidRequest("expected multipart/form-data with fields path and file");
      let path: string | undefined;
      let content: Buffer | undefined;
      for await (const part of req.parts({ limits: { fileSize: MAX_BUFFERED_FILE_BYTES, files: 1, fields: 4 } })) {
        if (part.type === "file") {
          content = await part.toBuffer();
          if (part.file.truncated) throw errors.tooLarge(MAX_BUFFERED_FILE_BYTES);
        } else if (part.fieldname === "path") {
          path = String(part.value);
        }
      }
      if (!path) throw errors.invalidRequest("field path is required");
      if (!content) throw errors.invalidRequest("field file is required");
      await s.ops.writeFile(req.auth.teamId, req.params.id, path, content);
      return reply.status(204).send(null);
    },
  );
};

/** POST /v1/capsules/{id}/files/read: `{path}` → raw bytes (buffered). */
export const readFileRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    `${at.base}/:id/files/read`,
    {
      schema: {
        tags: at.tags ?? ["files"],
        params: IdParams,
        body: PathBody,
        response: { 200: RawBytes, ...errorResponses },
      },
    },
    async (req, reply) => {
      const bytes = await s.ops.readFile(req.auth.teamId, req.params.id, req.body.path);
      return reply
        .type("application/octet-stream")
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as never);
    },
  );
};

/** POST /v1/capsules/{id}/files/list: `{path, depth}` → `{entries}`. */
export const listDirRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    `${at.base}/:id/files/list`,
    {
      schema: {
        tags: at.tags ?? ["files"],
        params: IdParams,
        body: PathBody.extend({ depth: z.number().int().min(0).max(64).default(1) }),
        response: { 200: z.object({ entries: z.array(FileEntry) }), ...errorResponses },
      },
    },
    async (req) => s.ops.listDir(req.auth.teamId, req.params.id, req.body.path, req.body.depth),
  );
};

/** POST /v1/capsules/{id}/files/mkdir: creates a directory with its parents. */
export const makeDirRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    `${at.base}/:id/files/mkdir`,
    {
      schema: {
        tags: at.tags ?? ["files"],
        params: IdParams,
        body: PathBody,
        response: { 200: z.object({ entry: FileEntry.nullable() }), ...errorResponses },
      },
    },
    async (req) => s.ops.makeDir(req.auth.teamId, req.params.id, req.body.path),
  );
};

/** POST /v1/capsules/{id}/files/remove: removes a file or a directory tree. */
export const removePathRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.post(
    `${at.base}/:id/files/remove`,
    {
      schema: {
        tags: at.tags ?? ["files"],
        params: IdParams,
        body: PathBody,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.ops.remove(req.auth.teamId, req.params.id, req.body.path);
      return reply.status(204).send(null);
    },
  );
};
