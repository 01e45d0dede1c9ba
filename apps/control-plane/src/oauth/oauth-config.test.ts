import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../config.ts";

const base = { JWT_SECRET: "x".repeat(32), WRENN_DATA_DIR: "/nonexistent-wrenn-test" };

describe("OAuth configuration", () => {
  it("leaves GitHub disabled without a client id and sends the browser back to the API's own URL", () => {
    const c = loadConfig({ ...base, CP_PUBLIC_URL: "https://api.example.com/" });
    assert.equal(c.oauth?.github, undefined);
    assert.equal(c.oauth?.redirectUrl, "https://api.example.com");
  });

  it("refuses to start with a client id but no CP_PUBLIC_URL or no secret", () => {
    assert.throws(
      () => loadConfig({ ...base, OAUTH_GITHUB_CLIENT_ID: "id", OAUTH_GITHUB_CLIENT_SECRET: "secret" }),
      (err: Error) => err instanceof ConfigError && /CP_PUBLIC_URL: required/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ ...base, OAUTH_GITHUB_CLIENT_ID: "id", CP_PUBLIC_URL: "https://api.example.com" }),
      (err: Error) => err instanceof ConfigError && /OAUTH_GITHUB_CLIENT_SECRET: required/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ ...base, OAUTH_REDIRECT_URL: "not a url" }),
      (err: Error) => err instanceof ConfigError && /OAUTH_REDIRECT_URL/.test(err.message),
    );
  });

  it("enables GitHub on github.com by default, or on a GitHub Enterprise server", () => {
    const env = {
      ...base,
      OAUTH_GITHUB_CLIENT_ID: "id",
      OAUTH_GITHUB_CLIENT_SECRET: "secret",
      CP_PUBLIC_URL: "https://api.example.com",
      OAUTH_REDIRECT_URL: "https://app.example.com/",
    };
    const c = loadConfig(env);
    assert.deepEqual(c.oauth, {
      redirectUrl: "https://app.example.com",
      publicUrl: "https://api.example.com",
      github: {
        clientId: "id",
        clientSecret: "secret",
        webUrl: "https://github.com",
        apiUrl: "https://api.github.com",
      },
    });
    const ghe = loadConfig({
      ...env,
      OAUTH_GITHUB_URL: "https://git.corp.example/",
      OAUTH_GITHUB_API_URL: "https://git.corp.example/api/v3/",
    });
    assert.equal(ghe.oauth?.github?.webUrl, "https://git.corp.example");
    assert.equal(ghe.oauth?.github?.apiUrl, "https://git.corp.example/api/v3");
  });
});
