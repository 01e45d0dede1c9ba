/**
 * What both ends of a Connect unary call agree on (connectrpc.com/docs/protocol, "Unary-Request" and
 * "Unary-Response"): the path of a method, the binary content type, and how an error travels.
 */
import type { DescMethod } from "@bufbuild/protobuf";

/** `POST /<package.Service>/<Method>`. */
export const methodPath = (method: DescMethod): string => `/${method.parent.typeName}/${method.name}`;

/** The only content type the lean path speaks; JSON and anything compressed go through connect-es itself. */
export const CONTENT_TYPE_PROTO = "application/proto";

/** Errors are JSON bodies (`{"code","message","details"}`) under a non-200 status. */
export const CONTENT_TYPE_JSON = "application/json";

/** Response headers named `trailer-<name>` carry the unary call's trailers. */
export const TRAILER_PREFIX = "trailer-";

/** A body read in chunks, as one buffer (without a copy when it came in one piece, as small messages do). */
export const joinChunks = (chunks: Buffer[]): Buffer =>
  chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
