import { parseGoDuration } from "./go-duration.ts";

/** A parsed healthcheck (reference §9 "Healthcheck format"); durations in ms. */
export interface Healthcheck {
  cmd: string;
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  /** Failed checks (after the start period) before the build fails; 0 means no limit but the overall deadline. */
  retries: number;
}

const DEFAULTS = { intervalMs: 3000, timeoutMs: 10_000, startPeriodMs: 0, retries: 0 };

/**
 * Parses `[--interval=3s] [--timeout=10s] [--start-period=0] [--retries=0] <command>`. Flags come first and take Go
 * durations (retries an integer). Throws an Error naming the bad flag; an empty string is not a healthcheck.
 */
export function parseHealthcheck(text: string): Healthcheck {
  const hc = { ...DEFAULTS };
  let rest = text.trim();
  for (;;) {
    const m = /^--([A-Za-z-]+)=(\S*)(?:\s+|$)/.exec(rest);
    if (!m) {
      if (/^--\S/.test(rest)) throw new Error(`healthcheck flag "${rest.split(/\s/)[0]}" needs a value (--flag=value)`);
      break;
    }
    const [, flag, value = ""] = m;
    if (flag === "retries") {
      if (!/^\d+$/.test(value) || Number(value) > 1000) throw new Error(`--retries must be an integer 0-1000`);
      hc.retries = Number(value);
    } else {
      const key = ({ interval: "intervalMs", timeout: "timeoutMs", "start-period": "startPeriodMs" } as const)[
        flag as "interval" | "timeout" | "start-period"
      ];
      if (!key) throw new Error(`unknown healthcheck flag --${flag}`);
      const ms = parseGoDuration(value);
      if (ms === undefined) throw new Error(`--${flag} needs a Go duration such as 5s, got "${value}"`);
      if (key !== "startPeriodMs" && ms <= 0) throw new Error(`--${flag} must be more than 0`);
      hc[key] = ms;
    }
    rest = rest.slice(m[0].length);
  }
  if (rest === "") throw new Error("healthcheck needs a command");
  return { cmd: rest, ...hc };
}
