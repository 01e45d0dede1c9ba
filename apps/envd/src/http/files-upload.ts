import { createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { EnvdError, errors } from "../errors.ts";
import { chownToUser, makeParentsAsUser } from "../filesystem/ownership.ts";
import { resolveUserPath } from "../process/spawn-spec.ts";
import type { UserIdentity, UserResolver } from "../users.ts";
import { type HttpRequest, type RouteHandler, sendJson } from "./respond.ts";
import { headerOf } from "./router.ts";

/** One written file, as the reference answers it. */
interface Written {
  path: string;
  name: string;
  type: "file";
}

/** Streams `source` into `path` (parents created, mode 0666 before umask, owned by the user). */
async function writeFileStream(source: Readable, path: string, user: UserIdentity): Promise<Written> {
  await makeParentsAsUser(path, user);
  try {
    await pipeline(source, createWriteStream(path, { mode: 0o666, highWaterMark: 1024 * 1024 }));
  } catch (err) {
    throw EnvdError.from(err, path);
  }
  await chownToUser(path, user);
  return { path, name: basename(path), type: "file" };
}

/** Where a multipart part goes: `path` itself, or `path/<filename>` when `path` is a directory. */
async function targetFor(pathParam: string | null, filename: string | undefined, user: UserIdentity): Promise<string> {
  const safeName = filename ? basename(filename) : undefined;
  if (!pathParam) {
    if (!safeName) throw errors.invalidArgument("a file part needs a filename when no path is given");
    return resolveUserPath(safeName, user);
  }
  const path = resolveUserPath(pathParam, user);
  const isDir = pathParam.endsWith("/") || (await stat(path).catch(() => undefined))?.isDirectory();
  if (isDir) {
    if (!safeName) throw errors.isADirectory(path);
    return join(path, safeName);
  }
  return path;
}

function uploadMultipart(req: HttpRequest, pathParam: string | null, user: UserIdentity): Promise<Written[]> {
  return new Promise((resolve, reject) => {
    const written: Written[] = [];
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown;
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers as Record<string, string>, highWaterMark: 1024 * 1024 });
    } catch (err) {
      reject(new EnvdError("invalid_argument", `bad multipart request: ${(err as Error).message}`));
      return;
    }
    bb.on("file", (field, stream, info) => {
      if (failure || field !== "file") {
        stream.resume(); // drain parts we do not take
        return;
      }
      // Parts are written one after another; busboy waits on each stream's backpressure meanwhile.
      chain = chain
        .then(async () => {
          written.push(await writeFileStream(stream, await targetFor(pathParam, info.filename, user), user));
        })
        .catch((err: unknown) => {
          failure ??= err;
          stream.resume();
        });
    });
    bb.on("error", (err) => reject(new EnvdError("invalid_argument", `bad multipart body: ${(err as Error).message}`)));
    bb.on("close", () => {
      void chain.then(() => (failure ? reject(failure) : resolve(written)));
    });
    req.pipe(bb);
  });
}

/**
 * POST /files?path=&username=: multipart field(s) `file` streamed straight to disk (any size), or a raw
 * body written to `path`. Answers `[{path,name,type:"file"}]`; 507 when the disk is full.
 */
export function createFilesUploadRoute(deps: { users: UserResolver }): RouteHandler {
  return async ({ req, res, url }) => {
    const user = await deps.users.resolve(url.searchParams.get("username") ?? undefined);
    const pathParam = url.searchParams.get("path");
    const contentType = headerOf(req, "content-type") ?? "";
    let written: Written[];
    if (contentType.startsWith("multipart/form-data")) {
      written = await uploadMultipart(req, pathParam, user);
      if (written.length === 0) throw errors.invalidArgument("no multipart field named file");
    } else {
      if (!pathParam) throw errors.invalidArgument("query parameter path is required for a raw upload");
      written = [await writeFileStream(req as Readable, resolveUserPath(pathParam, user), user)];
    }
    sendJson(res, 200, written);
  };
}
