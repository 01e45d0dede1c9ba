/**
 * What every command gets: the global options, the output, and a lazily built SDK client.
 */
import type { Command } from "commander";
import { WrennClient } from "wrenn";
import type { Io } from "./output.ts";

/** Global options (`wrenn --json --api-key … --base-url …`). */
export interface GlobalOptions {
  json?: boolean;
  apiKey?: string;
  baseUrl?: string;
}

/** Context shared by the commands of one CLI run. */
export interface CliContext {
  io: Io;
  /** True when `--json` was given. */
  json(): boolean;
  /** The SDK client for the resolved API key / base URL (throws a helpful error when no key is configured). */
  client(extra?: { token?: string }): WrennClient;
  /** The global options. */
  globals(): GlobalOptions;
  /** Sets the exit code of the run (commands like `exec` pass the remote exit code through). */
  setExitCode(code: number): void;
}

/** Builds the context for a program whose global options are read at action time. */
export function createContext(program: Command, io: Io, onExitCode: (code: number) => void): CliContext {
  const globals = () => program.opts<GlobalOptions>();
  return {
    io,
    json: () => globals().json === true,
    globals,
    client: (extra = {}) =>
      // With a JWT, send only the JWT: the routes that need one do not take an API key.
      new WrennClient({ apiKey: extra.token ? "" : globals().apiKey, baseUrl: globals().baseUrl, token: extra.token }),
    setExitCode: onExitCode,
  };
}
