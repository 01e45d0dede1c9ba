import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { basename, extname } from "node:path";
import { pipeline } from "node:stream/promises";
import { EnvdError, errors } from "../errors.ts";
import { resolveUserPath } from "../process/spawn-spec.ts";
import type { UserResolver } from "../users.ts";
import type { RouteHandler } from "./respond.ts";

const MIME: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".csv": "text/csv; charset=utf-8",
  ".py": "text/x-python; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tar": "application/x-tar",
};

/**
 * GET /files?path=&username=: streams a regular file (any size; read in 1 MiB chunks under the socket's
 * backpressure, never buffered whole). 404 when missing, 400 for a directory.
 */
export function createFilesDownloadRoute(deps: { users: UserResolver }): RouteHandler {
  return async ({ res, url }) => {
    const raw = url.searchParams.get("path");
    if (!raw) throw errors.invalidArgument("query parameter path is required");
    const user = await deps.users.resolve(url.searchParams.get("username") ?? undefined);
    const path = resolveUserPath(raw, user);
    // Open first and stat the handle: what we report is exactly what we stream.
    const handle = await open(path, "r").catch((err: unknown) => {
      throw EnvdError.from(err, path);
    });
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw errors.isADirectory(path);
      if (!st.isFile()) throw errors.invalidArgument(`${path}: not a regular file`);
      res.writeHead(200, {
        "content-type": MIME[extname(path).toLowerCase()] ?? "application/octet-stream",
        "content-length": st.size,
        "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(basename(path))}`,
        "cache-control": "no-store",
        "last-modified": st.mtime.toUTCString(),
      });
      const stream = createReadStream("", { fd: handle, highWaterMark: 1024 * 1024, autoClose: false });
      await pipeline(stream, res as NodeJS.WritableStream).catch(() => {
        // The client went away mid-download; nothing to answer any more.
      });
    } finally {
      await handle.close().catch(() => {});
    }
  };
}
