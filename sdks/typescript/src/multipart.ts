/**
 * A streaming `multipart/form-data` body with a `path` field followed by a `file` part, built by hand
 * because the streaming upload route requires that order and FormData cannot stream a file of unknown size.
 */
import { randomBytes } from "node:crypto";

/** Something the SDK can upload without buffering it. */
export type UploadSource = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array> | Uint8Array | string;

/** A multipart body and its content type. */
export interface MultipartBody {
  contentType: string;
  body: ReadableStream<Uint8Array>;
}

/** Builds the body; `onBytes` is called with the number of file bytes sent so far. */
export function multipartUpload(path: string, source: UploadSource, onBytes?: (sent: number) => void): MultipartBody {
  const boundary = `wrenn-${randomBytes(12).toString("hex")}`;
  const enc = new TextEncoder();
  const filename = path.split("/").pop() || "file";
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n${path}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename.replaceAll('"', "")}"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  let iterator: AsyncIterator<Uint8Array | string> | undefined;
  let sent = 0;
  let stage: "head" | "file" | "done" = "head";
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === "head") {
        controller.enqueue(head);
        stage = "file";
        iterator = toAsyncIterable(source)[Symbol.asyncIterator]();
        return;
      }
      if (stage === "done" || !iterator) return;
      const next = await iterator.next();
      if (next.done) {
        controller.enqueue(tail);
        controller.close();
        stage = "done";
        return;
      }
      const chunk = typeof next.value === "string" ? enc.encode(next.value) : next.value;
      sent += chunk.byteLength;
      controller.enqueue(chunk);
      onBytes?.(sent);
    },
    async cancel(reason) {
      await iterator?.return?.(reason);
    },
  });
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}

function toAsyncIterable(source: UploadSource): AsyncIterable<Uint8Array | string> {
  if (typeof source === "string" || source instanceof Uint8Array) {
    return (async function* () {
      yield source;
    })();
  }
  if (source instanceof ReadableStream) {
    return (async function* () {
      const reader = source.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    })();
  }
  return source;
}
