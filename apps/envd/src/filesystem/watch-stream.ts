import type { MessageInitShape } from "@bufbuild/protobuf";
import type { filesystem as pb } from "@wrenn/protocol";
import { asConnect, type EnvdError } from "../errors.ts";
import { DirWatcher, type FsEvent } from "./dir-watcher.ts";

type WatchResponse = MessageInitShape<typeof pb.WatchDirResponseSchema>;

/** Keepalive interval on an idle watch stream, in ms (keeps proxies from closing it). */
const KEEPALIVE_MS = 30_000;
/** Events buffered for a slow client before the stream fails (an unbounded queue would grow forever). */
const MAX_QUEUED = 10_000;

/** WatchDir: `start`, then events as they happen, keepalives when idle, until the client goes away. */
export async function* streamWatch(
  path: string,
  recursive: boolean,
  signal: AbortSignal,
): AsyncGenerator<WatchResponse> {
  const queue: FsEvent[] = [];
  let failure: EnvdError | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const watcher = await asConnect(() =>
    DirWatcher.open(
      path,
      recursive,
      (ev) => {
        if (queue.length < MAX_QUEUED) queue.push(ev);
        poke();
      },
      (err) => {
        failure = err;
        poke();
      },
    ),
  );
  signal.addEventListener("abort", poke, { once: true });
  try {
    yield { event: { case: "start", value: {} } };
    while (!signal.aborted) {
      const ev = queue.shift();
      if (ev) {
        yield { event: { case: "filesystem", value: ev } };
        continue;
      }
      if (failure) throw failure.toConnect();
      let timer: NodeJS.Timeout | undefined;
      const isTimeout = await new Promise<boolean>((resolve) => {
        wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), KEEPALIVE_MS);
      });
      clearTimeout(timer);
      if (isTimeout) yield { event: { case: "keepalive", value: {} } };
    }
  } finally {
    watcher.close();
    signal.removeEventListener("abort", poke);
  }
}
