/** The output a build reports to: a TTY gets a live, rewritten status line; anything else gets plain lines. */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width; the live status line is cut to fit so that `\r` can redraw it. */
  columns?: number;
}

/** Handed to a running step so it can report what it is doing right now. */
export interface StepHandle {
  /** Reports one unit of work (an output line of debootstrap, a package unpacked …) with a short description. */
  tick(detail: string): void;
  /** Replaces the step's final note ("cached", "2.1 GiB"). */
  note(text: string): void;
}

/** Reports a build as one line per step with elapsed seconds, plus a live indicator for long steps. */
export interface Progress {
  step<T>(name: string, fn: (handle: StepHandle) => Promise<T>): Promise<T>;
  /** A one-off line (a cached result, a summary). */
  info(text: string): void;
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  out: ProgressOutput;
  /** Clock in milliseconds (injectable for tests). Default `performance.now`. */
  now?: () => number;
  /** Non-TTY only: the least time between two heartbeat lines of a long step, in ms. Default 10 000. */
  heartbeatMs?: number;
  /** TTY only: the least time between two redraws of the status line, in ms. Default 100. */
  redrawMs?: number;
}

/**
 * Creates the build's progress reporter. Every step prints `[  12.3s] ▸ name` when it starts and
 * `[  20.1s] ✓ name (7.8s, note)` or `✗` when it ends. While it runs, ticks redraw a status line on a
 * TTY, or print an occasional `… N lines, last: …` heartbeat elsewhere so CI logs stay readable.
 */
export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const redrawMs = opts.redrawMs ?? 100;
  const isTTY = opts.out.isTTY === true;
  const startedAt = now();
  const stamp = () => `[${((now() - startedAt) / 1000).toFixed(1).padStart(6)}s]`;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) opts.out.write("\r\x1b[K");
    statusShown = false;
  };
  const line = (text: string) => {
    clearStatus();
    opts.out.write(`${text}\n`);
  };

  return {
    info: (text) => line(`${stamp()}   ${text}`),
    async step(name, fn) {
      const stepStart = now();
      let ticks = 0;
      let lastShown = stepStart;
      let note = "";
      line(`${stamp()} ▸ ${name}`);
      const handle: StepHandle = {
        tick(detail) {
          ticks += 1;
          const t = now();
          const elapsed = ((t - stepStart) / 1000).toFixed(0);
          const text = detail.replace(/\s+/g, " ").trim().slice(0, 90);
          if (isTTY && t - lastShown >= redrawMs) {
            const status = `  ${name}: ${ticks} · ${elapsed}s · ${text}`;
            opts.out.write(`\r\x1b[K${status.slice(0, Math.max(20, (opts.out.columns ?? 100) - 1))}`);
            statusShown = true;
            lastShown = t;
          } else if (!isTTY && t - lastShown >= heartbeatMs) {
            line(`${stamp()}   … ${name}: ${ticks} so far, last: ${text}`);
            lastShown = t;
          }
        },
        note(text) {
          note = text;
        },
      };
      try {
        const result = await fn(handle);
        const took = ((now() - stepStart) / 1000).toFixed(1);
        line(`${stamp()} ✓ ${name} (${took}s${note ? `, ${note}` : ""})`);
        return result;
      } catch (err) {
        line(`${stamp()} ✗ ${name} (${((now() - stepStart) / 1000).toFixed(1)}s)`);
        throw err;
      }
    },
  };
}
