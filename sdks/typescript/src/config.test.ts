import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { configFilePath, DEFAULT_BASE_URL, requireCredentials, resolveConfig } from "./config.ts";
import { AuthenticationError, InvalidRequestError } from "./errors.ts";

const home = mkdtempSync(join(tmpdir(), "wrenn-config-"));
after(() => rmSync(home, { recursive: true, force: true }));

function writeConfig(content: string) {
  mkdirSync(join(home, ".config", "wrenn"), { recursive: true });
  writeFileSync(join(home, ".config", "wrenn", "config.json"), content);
}

describe("resolveConfig", () => {
  it("uses the default base URL and no key when nothing is set", () => {
    const c = resolveConfig({}, { env: {}, homeDir: join(home, "nothing") });
    assert.equal(c.baseUrl, DEFAULT_BASE_URL);
    assert.equal(c.apiKey, undefined);
    assert.throws(
      () => requireCredentials(c),
      (e) => e instanceof AuthenticationError && /wrenn up/.test(e.message),
    );
  });

  it("reads the file written by wrenn up", () => {
    writeConfig(JSON.stringify({ base_url: "http://127.0.0.1:9999/", api_key: "wrn_file" }));
    const c = resolveConfig({}, { env: {}, homeDir: home });
    assert.equal(c.apiKey, "wrn_file");
    assert.equal(c.baseUrl, "http://127.0.0.1:9999");
    assert.equal(c.source, "file");
  });

  it("prefers the environment over the file, and options over both", () => {
    writeConfig(JSON.stringify({ base_url: "http://file", api_key: "wrn_file" }));
    const env = { WRENN_API_KEY: "wrn_env", WRENN_BASE_URL: "http://env" };
    const fromEnv = resolveConfig({}, { env, homeDir: home });
    assert.deepEqual([fromEnv.apiKey, fromEnv.baseUrl, fromEnv.source], ["wrn_env", "http://env", "env"]);
    const fromOpts = resolveConfig({ apiKey: "wrn_opt", baseUrl: "http://opt" }, { env, homeDir: home });
    assert.deepEqual([fromOpts.apiKey, fromOpts.baseUrl, fromOpts.source], ["wrn_opt", "http://opt", "options"]);
  });

  it("honours WRENN_CONFIG", () => {
    const p = join(home, "other.json");
    writeFileSync(p, JSON.stringify({ api_key: "wrn_other" }));
    assert.equal(configFilePath({ env: { WRENN_CONFIG: p } }), p);
    assert.equal(resolveConfig({}, { env: { WRENN_CONFIG: p } }).apiKey, "wrn_other");
  });

  it("names the file when it is not JSON", () => {
    writeConfig("{not json");
    assert.throws(
      () => resolveConfig({}, { env: {}, homeDir: home }),
      (e) => e instanceof InvalidRequestError && e.message.includes("config.json"),
    );
  });
});
