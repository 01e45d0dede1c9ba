import type { ShellResult } from "./guest-shell.ts";
import type { Healthcheck } from "./healthcheck.ts";

/** Without `--retries`, how long a healthcheck may keep failing before the build gives up (every wait is bounded). */
export const HEALTHCHECK_MAX_MS = 10 * 60_000;

/**
 * Polls a healthcheck until it passes (reference §9): every `interval`, each try bounded by `timeout`. Failures
 * inside the start period do not count; with `retries` > 0 the build fails after that many counted failures or
 * past start_period + (retries+1) × interval; with 0 only the overall `maxMs` bounds it. Throws with the last
 * failure's reason; rejects when `signal` aborts.
 */
export async function waitHealthy(
  hc: Healthcheck,
  check: (timeoutMs: number) => Promise<ShellResult>,
  signal: AbortSignal,
  maxMs = HEALTHCHECK_MAX_MS,
): Promise<void> {
  const started = Date.now();
  const deadline = started + (hc.retries > 0 ? hc.startPeriodMs + (hc.retries + 1) * hc.intervalMs : maxMs);
  let counted = 0;
  for (;;) {
    signal.throwIfAborted();
    const r = await check(hc.timeoutMs);
    if (r.exit === 0) return;
    const reason = r.stderr.trim() || `exit code ${r.exit}`;
    if (Date.now() - started >= hc.startPeriodMs) counted++;
    if (hc.retries > 0 && counted >= hc.retries) {
      throw new Error(`healthcheck failed ${counted} times: ${reason}`);
    }
    if (Date.now() + hc.intervalMs > deadline) {
      throw new Error(`healthcheck did not pass within ${Math.round((deadline - started) / 1000)}s: ${reason}`);
    }
    await sleep(hc.intervalMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
