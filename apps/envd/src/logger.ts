import { pino } from "pino";

/** The logger type every envd module takes as a dependency. */
export type Logger = pino.Logger;

/** JSON logs to stdout; access tokens are redacted wherever they appear in logged objects. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { svc: "envd" },
    redact: ["accessToken", "*.accessToken", "headers['x-access-token']", "*.headers['x-access-token']"],
  });
}
