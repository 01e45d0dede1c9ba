/**
 * `capsule.files`: read, write, list and remove files inside a capsule; stream large files both ways.
 */
import { dirname } from "node:path/posix";
import { NotFoundError } from "./errors.ts";
import type { FileEntry } from "./models.ts";
import { toFileEntry } from "./models.ts";
import { multipartUpload, type UploadSource } from "./multipart.ts";
import { LONG_REQUEST_TIMEOUT_MS, type Transport } from "./transport.ts";

/** Options every file call accepts. */
export interface FileCallOptions {
  signal?: AbortSignal;
  /** Deadline in milliseconds (default 60 s; 5 min for streams; 0 = none). */
  timeoutMs?: number;
}

/** Options of the streaming transfers. */
export interface TransferOptions extends FileCallOptions {
  /** Called with the number of bytes moved so far. */
  onProgress?: (bytes: number) => void;
}

/** File operations on one capsule. */
export class Files {
  #t: Transport;
  #base: string;

  /** @internal */
  constructor(transport: Transport, capsuleId: string) {
    this.#t = transport;
    this.#base = `/v1/capsules/${encodeURIComponent(capsuleId)}/files`;
  }

  /** Reads a file as UTF-8 text. */
  async read(path: string, options: FileCallOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path, options));
  }

  /** Reads a file as bytes. */
  async readBytes(path: string, options: FileCallOptions = {}): Promise<Uint8Array> {
    const res = await this.#t.request(`${this.#base}/read`, { json: { path }, ...options });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Writes (creates or replaces) a file; parent directories are created. Buffered: up to 100 MB. */
  async write(path: string, data: string | Uint8Array | Blob, options: FileCallOptions = {}): Promise<void> {
    const form = new FormData();
    form.append("path", path);
    const blob = data instanceof Blob ? data : new Blob([typeof data === "string" ? data : new Uint8Array(data)]);
    form.append("file", blob, path.split("/").pop() || "file");
    await this.#t.request(`${this.#base}/write`, { body: form, ...options });
  }

  /** Lists a directory; `depth` > 1 descends into subdirectories. */
  async list(path: string, options: FileCallOptions & { depth?: number } = {}): Promise<FileEntry[]> {
    const { depth = 1, ...rest } = options;
    const body = await this.#t.json<{ entries?: Record<string, unknown>[] }>(`${this.#base}/list`, {
      json: { path, depth },
      ...rest,
    });
    return (body?.entries ?? []).map(toFileEntry);
  }

  /** True when `path` exists (file, directory or link). */
  async exists(path: string, options: FileCallOptions = {}): Promise<boolean> {
    const clean = path.replace(/\/+$/, "") || "/";
    if (clean === "/") return true;
    try {
      const entries = await this.list(dirname(clean), options);
      const name = clean.split("/").pop();
      return entries.some((e) => e.name === name || e.path === clean);
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Creates a directory and its parents; returns the new entry. */
  async makeDir(path: string, options: FileCallOptions = {}): Promise<FileEntry | undefined> {
    const body = await this.#t.json<{ entry?: Record<string, unknown> }>(`${this.#base}/mkdir`, {
      json: { path },
      ...options,
    });
    return body?.entry ? toFileEntry(body.entry) : undefined;
  }

  /** Removes a file or a directory (recursively). */
  async remove(path: string, options: FileCallOptions = {}): Promise<void> {
    await this.#t.request(`${this.#base}/remove`, { json: { path }, ...options });
  }

  /**
   * Uploads from a stream without buffering it: a Node Readable, any async iterable of bytes,
   * a web ReadableStream, or bytes/text. No size limit beyond the capsule's disk.
   */
  async uploadStream(path: string, source: UploadSource, options: TransferOptions = {}): Promise<void> {
    const { onProgress, ...rest } = options;
    const { contentType, body } = multipartUpload(path, source, onProgress);
    await this.#t.request(`${this.#base}/stream/write`, {
      method: "POST",
      body,
      headers: { "content-type": contentType },
      timeoutMs: LONG_REQUEST_TIMEOUT_MS,
      ...rest,
    });
  }

  /**
   * Downloads a file as a web ReadableStream of bytes (async-iterable in Node; `Readable.fromWeb` turns it into
   * a Node stream). The deadline covers the whole transfer.
   */
  async downloadStream(path: string, options: TransferOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const { onProgress, ...rest } = options;
    const res = await this.#t.request(`${this.#base}/stream/read`, {
      json: { path },
      timeoutMs: LONG_REQUEST_TIMEOUT_MS,
      ...rest,
    });
    const source = res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    if (!onProgress) return source;
    let moved = 0;
    return source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          moved += chunk.byteLength;
          onProgress(moved);
          controller.enqueue(chunk);
        },
      }),
    );
  }
}
