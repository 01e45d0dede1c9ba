/**
 * Where the SDK finds its API key and base URL.
 *
 * Order: explicit options, then `WRENN_API_KEY` / `WRENN_BASE_URL`, then the file written by `wrenn up`
 * (`~/.config/wrenn/config.json`, `{"base_url","api_key"}`; `WRENN_CONFIG` points elsewhere), then the default
 * base URL of a local stack.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { AuthenticationError, InvalidRequestError } from "./errors.ts";

/** The base URL of a local stack started by `wrenn up`. */
export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";

/** What a caller may pass to override the environment. */
export interface ConnectionOptions {
  /** API key (`wrn_…`), sent as `X-API-Key`. */
  apiKey?: string;
  /** Control plane URL, e.g. `http://127.0.0.1:8000`. */
  baseUrl?: string;
  /** A user JWT, sent as `Authorization: Bearer`; needed only for host administration. */
  token?: string;
}

/** Resolved connection settings. */
export interface ResolvedConfig {
  apiKey?: string;
  baseUrl: string;
  token?: string;
  /** Where the values came from, for error messages. */
  source: "options" | "env" | "file" | "default";
}

/** The sources {@link resolveConfig} reads; tests pass their own. */
export interface ConfigSources {
  env?: Record<string, string | undefined>;
  homeDir?: string;
}

/** Path of the config file (`$WRENN_CONFIG`, else `~/.config/wrenn/config.json`). */
export function configFilePath(sources: ConfigSources = {}): string {
  const env = sources.env ?? process.env;
  if (env.WRENN_CONFIG) return env.WRENN_CONFIG;
  return join(sources.homeDir ?? env.HOME ?? homedir(), ".config", "wrenn", "config.json");
}

/** Reads the config file; a missing file is `{}`, a malformed one is an error that names the file. */
export function readConfigFile(path: string): { base_url?: string; api_key?: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return {
      base_url: typeof parsed.base_url === "string" ? parsed.base_url : undefined,
      api_key: typeof parsed.api_key === "string" ? parsed.api_key : undefined,
    };
  } catch (err) {
    throw new InvalidRequestError("invalid_config", `${path} is not valid JSON; fix or delete it`, { cause: err });
  }
}

/** Resolves settings without requiring an API key (use {@link requireApiKey} where one is needed). */
export function resolveConfig(options: ConnectionOptions = {}, sources: ConfigSources = {}): ResolvedConfig {
  const env = sources.env ?? process.env;
  const file = readConfigFile(configFilePath(sources));
  const apiKey = options.apiKey ?? env.WRENN_API_KEY ?? file.api_key;
  const baseUrl = options.baseUrl ?? env.WRENN_BASE_URL ?? file.base_url ?? DEFAULT_BASE_URL;
  const source = options.apiKey ? "options" : env.WRENN_API_KEY ? "env" : file.api_key ? "file" : "default";
  return { apiKey: apiKey || undefined, baseUrl: baseUrl.replace(/\/+$/, ""), token: options.token, source };
}

/** Throws an AuthenticationError that says what to do when neither an API key nor a token is configured. */
export function requireCredentials(config: ResolvedConfig): void {
  if (config.apiKey || config.token) return;
  throw new AuthenticationError(
    "unauthorized",
    "no API key: run `wrenn up` (it saves one to ~/.config/wrenn/config.json) or set WRENN_API_KEY",
  );
}
