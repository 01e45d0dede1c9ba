/**
 * Push-style server-streaming methods: the method sends messages to a call object and ends it, instead of being an
 * async generator that a server iterates. Why: each message of an async generator crosses several promise
 * resolutions per layer of iteration, and the code that sends a process's output is event-driven anyway. Under
 * TCG every one of those steps is emulated guest work. `leanServerStreamHandler` serves such methods directly;
 * `pushAsGenerator` gives connect-es (JSON, compressed calls, gRPC) the same method as a generator.
 */
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { toConnectError } from "./wire.ts";

/** One server-streaming call, as a push-style method sees it. */
export interface PushStreamCall<O> {
  /** The request's headers. */
  readonly requestHeader: Headers;
  /**
   * Sends one message. False: the caller is not keeping up; send more only after `onDrain` calls back (what is
   * sent anyway is still delivered, from memory). After the end, sends are ignored and answer false.
   */
  send(message: O): boolean;
  /** Ends the call, with an error or without one. Only the first end counts. */
  end(error?: unknown): void;
  /** `listener` runs each time the call can take more after a send answered false. */
  onDrain(listener: () => void): void;
  /** `listener` runs once if the call ends without `end`: the caller went away, or its deadline passed. */
  onCancel(listener: (reason: ConnectError) => void): void;
  /** True once the call ended or was cancelled. */
  readonly isDone: boolean;
}

/** A push-style server-streaming method. It must end the call (or see it cancelled) eventually. */
export type PushStreamMethod<I, O> = (request: I, call: PushStreamCall<O>) => void;

/**
 * The same method as an async generator, for connect-es. The generator holds at most one message the consumer has
 * not taken yet: `send` answers false while it does, and the method hears `onDrain` once it was taken. The
 * context's abort (caller gone, deadline) and a consumer that stops iterating both cancel the call.
 */
export function pushAsGenerator<I, O>(
  method: PushStreamMethod<I, O>,
): (request: I, ctx: HandlerContext) => AsyncGenerator<O> {
  return async function* generate(request, ctx) {
    const queue: O[] = [];
    let isDone = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const drainListeners: Array<() => void> = [];
    const cancelListeners: Array<(reason: ConnectError) => void> = [];
    let owesDrain = false;
    const wakeUp = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const cancel = (reason: ConnectError) => {
      if (isDone) return;
      isDone = true;
      wakeUp();
      for (const l of cancelListeners.splice(0)) l(reason);
    };
    const call: PushStreamCall<O> = {
      requestHeader: ctx.requestHeader,
      send(message) {
        if (isDone) return false;
        queue.push(message);
        wakeUp();
        if (queue.length > 1) owesDrain = true;
        return queue.length <= 1;
      },
      end(error) {
        if (isDone) return;
        isDone = true;
        failure = error;
        wakeUp();
      },
      onDrain: (l) => drainListeners.push(l),
      onCancel: (l) => cancelListeners.push(l),
      get isDone() {
        return isDone;
      },
    };
    const onAbort = () =>
      cancel(
        ctx.signal.reason instanceof ConnectError ? ctx.signal.reason : new ConnectError("canceled", Code.Canceled),
      );
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      method(request, call);
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          if (owesDrain && queue.length === 0) {
            owesDrain = false;
            for (const l of drainListeners) l();
          }
          continue;
        }
        if (isDone) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (failure !== undefined) throw toConnectError(failure);
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      // A consumer that stopped iterating early (or a thrown error above) leaves the method running: cancel it.
      cancel(new ConnectError("the caller stopped reading", Code.Canceled));
    }
  };
}
