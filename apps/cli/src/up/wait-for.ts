/** Thrown by a probe to stop waiting at once (e.g. the process being waited for has exited). */
export class StopWaiting extends Error {
  override name = "StopWaiting";
}

/** Polls `probe` until it returns a value other than `undefined`, with a deadline and an optional abort. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; onTick?: () => void },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof StopWaiting) throw new Error(err.message, { cause: err });
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${why}`);
    }
    options.onTick?.();
    await new Promise((r) => setTimeout(r, Math.min(options.intervalMs ?? 500, 100 * 2 ** attempt)));
  }
}
