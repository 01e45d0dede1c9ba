import { Readable } from "node:stream";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { hostagent } from "@wrenn/protocol";
import { z } from "zod";
import { agentErrorToWrenn } from "../../../agents/connect-errors.ts";
import { errors } from "../../../errors.ts";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams, RawBytes } from "../../schemas.ts";

/** Streamed files move in 64 KiB chunks (reference §14). */
export const STREAM_CHUNK_BYTES = 64 * 1024;

/** Re-chunks a byte stream into pieces of at most `size` bytes. */
async function* rechunk(src: AsyncIterable<Buffer>, size: number): AsyncGenerator<Uint8Array> {
  for await (const buf of src) {
    for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, Math.min(o + size, buf.length));
  }
}

/**
 * POST /v1/capsules/{id}/files/stream/write: multipart where `path` precedes `file`; the file is
 * piped to the agent's client stream without being buffered, so there is no size cap.
 */
export const streamWriteRoute: Route = (app, s) => {
  app.post(
    "/v1/capsules/:id/files/stream/write",
    {
      schema: {
        tags: ["files"],
        params: IdParams,
        consumes: ["multipart/form-data"],
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw errors.invalidRequest("expected multipart/form-data with fields path then file");
      const { client, id } = await s.ops.running(req.auth.teamId, req.params.id, "write files");
      let path: string | undefined;
      let written = false;
      for await (const part of req.parts({ limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 1, fields: 4 } })) {
        if (part.type === "field") {
          if (part.fieldname === "path") path = String(part.value);
          continue;
        }
        if (!path) throw errors.invalidRequest("field path must come before file");
        const p = path;
        const file = part.file;
        async function* messages(): AsyncGenerator<MessageInitShape<typeof hostagent.WriteFileStreamRequestSchema>> {
          yield { content: { case: "meta", value: { capsuleId: id, path: p } } };
          for await (const chunk of rechunk(file, STREAM_CHUNK_BYTES))
            yield { content: { case: "chunk", value: chunk } };
        }
        try {
          await client.writeFileStream(messages(), { timeoutMs: 3_600_000 });
        } catch (err) {
          throw agentErrorToWrenn(err);
        }
        written = true;
      }
      if (!path) throw errors.invalidRequest("field path is required");
      if (!written) throw errors.invalidRequest("field file is required");
      return reply.status(204).send(null);
    },
  );
};

/** POST /v1/capsules/{id}/files/stream/read: `{path}` → chunked raw bytes, flushed per chunk. */
export const streamReadRoute: Route = (app, s) => {
  app.post(
    "/v1/capsules/:id/files/stream/read",
    {
      schema: {
        tags: ["files"],
        params: IdParams,
        body: z.object({ path: z.string().min(1).max(4096) }),
        response: { 200: RawBytes, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { client, id } = await s.ops.running(req.auth.teamId, req.params.id, "read files");
      const abort = new AbortController();
      req.raw.once("close", () => abort.abort());
      const it = client
        .readFileStream({ capsuleId: id, path: req.body.path }, { signal: abort.signal })
        [Symbol.asyncIterator]();
      // Read the first chunk before answering, so a missing file is a proper 404, not a broken 200.
      let first: IteratorResult<hostagent.ReadFileStreamResponse>;
      try {
        first = await it.next();
      } catch (err) {
        throw agentErrorToWrenn(err);
      }
      async function* body() {
        if (first.done) return;
        yield Buffer.from(first.value.chunk);
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield Buffer.from(n.value.chunk);
        }
      }
      return reply.type("application/octet-stream").send(Readable.from(body()) as never);
    },
  );
};
