import pino, { type Logger } from "pino";

/** Paths redacted from every log line: credentials never reach the log. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  'req.headers["x-host-token"]',
  "headers.authorization",
  'headers["x-api-key"]',
  'headers["x-host-token"]',
  "token",
  "refresh_token",
  "agent_key",
  "api_key",
  "password",
];

/** The control plane's logger: JSON lines to stdout at `level`. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: "wrenn-cp" }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } });
}
