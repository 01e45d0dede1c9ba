/** pino logger for the agent: JSON to stdout, pretty-ish only by a human's terminal choice, secrets redacted. */
import { type Logger, pino } from "pino";

export type { Logger };

/** Creates the root logger. Child loggers bind `capsuleId`, `template` etc. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: "wrenn-agent" },
      redact: {
        paths: ["accessToken", "token", "refreshToken", "agentKey", "authorization", "*.accessToken", "*.token"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
