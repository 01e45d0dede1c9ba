/** Saves `{"base_url","api_key"}` where the CLI and the SDKs look for it (`~/.config/wrenn/config.json`, 0600). */
import { chmodSync } from "node:fs";
import { configFilePath } from "wrenn";
import { writePrivateJson } from "./stack-layout.ts";

/** Writes the config file and returns its path. */
export function saveUserConfig(baseUrl: string, apiKey: string): string {
  const path = configFilePath();
  writePrivateJson(path, { base_url: baseUrl, api_key: apiKey });
  chmodSync(path, 0o600);
  return path;
}
