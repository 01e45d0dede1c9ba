import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeGitHub, type FakeGitHubUser } from "../../../oauth/testing/fake-github.ts";
import { Harness, type TestResponse } from "../../../testing/harness.ts";

const FRONTEND = "http://app.test";

/** Set-Cookie headers by cookie name: the (still encoded) value and the attribute list. */
function setCookies(r: TestResponse): Map<string, { value: string; attrs: string }> {
  const raw = r.headers["set-cookie"];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const out = new Map<string, { value: string; attrs: string }>();
  for (const line of list as string[]) {
    const [pair = "", ...attrs] = line.split(";");
    const i = pair.indexOf("=");
    out.set(pair.slice(0, i).trim(), { value: pair.slice(i + 1), attrs: attrs.join(";").trim() });
  }
  return out;
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString());

describe("GitHub OAuth routes", () => {
  let h: Harness;
  let gh: FakeGitHub;
  let seq = 0;
  const ghUser = (over: Partial<FakeGitHubUser> = {}): FakeGitHubUser => {
    seq += 1;
    return { id: 1000 + seq, login: `octo${seq}`, name: `Octo ${seq}`, email: `octo${seq}@example.com`, ...over };
  };

  before(async () => {
    gh = await FakeGitHub.start();
    h = await Harness.start({
      oauth: { redirectUrl: FRONTEND, publicUrl: "http://cp.test", github: gh.config },
    });
  });
  after(async () => {
    await h.close();
    await gh.close();
  });

  /** Starts a flow like the browser does; returns the state GitHub will echo and the state cookie. */
  async function start(intent?: string, prefix = "/auth/oauth") {
    const r = await h.req("GET", `${prefix}/github${intent ? `?intent=${intent}` : ""}`);
    assert.equal(r.status, 302, r.body);
    const location = new URL(String(r.headers.location));
    const cookie = setCookies(r).get("oauth_state");
    assert.ok(cookie, "oauth_state is set");
    return { r, location, state: location.searchParams.get("state") ?? "", cookie: cookie.value };
  }

  /** GitHub's redirect back to the callback, carrying the browser's cookies. */
  function callback(query: Record<string, string>, cookies: Record<string, string>, prefix = "/auth/oauth") {
    const cookie = Object.entries(cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
    return h.req("GET", `${prefix}/github/callback?${new URLSearchParams(query)}`, undefined, undefined, { cookie });
  }

  async function signIn(user: FakeGitHubUser, intent = "signup") {
    const flow = await start(intent);
    return callback({ code: gh.codeFor(user), state: flow.state }, { oauth_state: flow.cookie });
  }

  const errorOf = (r: TestResponse) => {
    assert.equal(r.status, 302, r.body);
    const loc = new URL(String(r.headers.location));
    assert.equal(`${loc.origin}${loc.pathname}`, `${FRONTEND}/auth/github/callback`);
    return loc.searchParams.get("error");
  };

  it("signs up the very first user as platform admin and hands the session over in cookies", async () => {
    const octo = ghUser({ name: "Octo Cat", email: "Octo.Cat@Example.com" });
    const r = await signIn(octo);
    assert.equal(r.status, 302, r.body);
    assert.equal(r.headers.location, `${FRONTEND}/auth/github/callback`);
    const c = setCookies(r);
    for (const name of ["wrenn_oauth_token", "wrenn_oauth_user_id", "wrenn_oauth_team_id", "wrenn_oauth_email"]) {
      const got = c.get(name);
      assert.ok(got, name);
      assert.match(got.attrs, /Max-Age=60/);
      assert.match(got.attrs, /Path=\/auth\//);
      assert.doesNotMatch(got.attrs, /HttpOnly/, "the frontend's scripts read these");
    }
    assert.equal(decodeURIComponent(c.get("wrenn_oauth_name")?.value ?? ""), "Octo Cat");
    assert.equal(decodeURIComponent(c.get("wrenn_oauth_email")?.value ?? ""), "octo.cat@example.com");
    assert.equal(c.get("wrenn_oauth_new_signup")?.value, "1");
    assert.match(c.get("oauth_state")?.attrs ?? "", /Max-Age=0|Expires=Thu, 01 Jan 1970/, "state is single-use");
    const token = c.get("wrenn_oauth_token")?.value ?? "";
    const claims = claimsOf(token);
    assert.equal(claims.is_admin, true);
    assert.equal(claims.role, "owner");
    assert.equal(claims.team_id, c.get("wrenn_oauth_team_id")?.value);
    const me = await h.req("GET", "/v1/me", { jwt: token });
    assert.equal(me.status, 200, me.body);
    assert.deepEqual(me.json, {
      name: "Octo Cat",
      email: "octo.cat@example.com",
      has_password: false,
      providers: ["github"],
    });
    const teams = await h.req("GET", "/v1/teams", { jwt: token });
    assert.equal(teams.json.length, 1);
    assert.equal(teams.json[0].name, "Octo Cat's Team");
    // GitHub was asked with the registered callback URL and the app's credentials.
    const tr = gh.tokenRequests.at(-1);
    assert.equal(tr?.redirect_uri, "http://cp.test/auth/oauth/github/callback");
    assert.equal(tr?.client_secret, gh.clientSecret);

    const second = await signIn(ghUser());
    const c2 = claimsOf(setCookies(second).get("wrenn_oauth_token")?.value ?? "");
    assert.equal(c2.is_admin, undefined, "only the first user is admin");
  });

  it("redirects to GitHub's authorize page with a signed state cookie, on both prefixes", async () => {
    for (const prefix of ["/auth/oauth", "/v1/auth/oauth"]) {
      const { r, location, state, cookie } = await start("signup", prefix);
      assert.equal(`${location.origin}${location.pathname}`, `${gh.config.webUrl}/login/oauth/authorize`);
      assert.equal(location.searchParams.get("client_id"), gh.clientId);
      assert.equal(location.searchParams.get("scope"), "user:email");
      assert.equal(location.searchParams.get("redirect_uri"), "http://cp.test/auth/oauth/github/callback");
      assert.match(state, /^[0-9a-f]{32}$/);
      const [s, mac, intent] = decodeURIComponent(cookie).split(":");
      assert.equal(s, state);
      assert.match(mac ?? "", /^[0-9a-f]{64}$/);
      assert.equal(intent, "signup");
      const attrs = setCookies(r).get("oauth_state")?.attrs ?? "";
      assert.match(attrs, /HttpOnly/);
      assert.match(attrs, /Max-Age=600/);
    }
    const plain = await start();
    assert.equal(decodeURIComponent(plain.cookie).split(":")[2], "login", "no intent means login");
    const odd = await start("admin");
    assert.equal(decodeURIComponent(odd.cookie).split(":")[2], "login");
  });

  it("answers unknown providers with 404 in the error format", async () => {
    for (const url of ["/auth/oauth/gitlab", "/v1/auth/oauth/gitlab/callback?code=x&state=y"]) {
      const r = await h.req("GET", url);
      assert.equal(r.status, 404, url);
      assert.equal(r.json.error.code, "not_found");
    }
  });

  it("logs a linked identity back in, with the same team and no signup marker", async () => {
    const octo = ghUser();
    const first = setCookies(await signIn(octo));
    const again = await signIn(octo, "login");
    assert.equal(again.headers.location, `${FRONTEND}/auth/github/callback`);
    const c = setCookies(again);
    assert.equal(c.get("wrenn_oauth_user_id")?.value, first.get("wrenn_oauth_user_id")?.value);
    assert.equal(c.get("wrenn_oauth_team_id")?.value, first.get("wrenn_oauth_team_id")?.value);
    assert.equal(c.has("wrenn_oauth_new_signup"), false);
    // Signup intent with an already linked identity logs in too.
    const viaSignup = setCookies(await signIn(octo, "signup"));
    assert.equal(viaSignup.get("wrenn_oauth_user_id")?.value, first.get("wrenn_oauth_user_id")?.value);
    assert.equal(viaSignup.has("wrenn_oauth_new_signup"), false);
  });

  it("refuses to create an account on the login intent (no_account)", async () => {
    const stranger = ghUser();
    const r = await signIn(stranger, "login");
    assert.equal(errorOf(r), "no_account");
    assert.equal(setCookies(r).has("wrenn_oauth_token"), false);
    const row = await h.db.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", stranger.email ?? "")
      .executeTakeFirst();
    assert.equal(row, undefined);
  });

  it("refuses an email held by an active account (email_taken) and replaces an unactivated signup", async () => {
    const holder = await h.user("holder");
    assert.equal(errorOf(await signIn(ghUser({ email: holder.email.toUpperCase() }))), "email_taken");

    const email = `pending-${seq}@example.com`;
    const s = await h.req("POST", "/v1/auth/signup", undefined, { email, password: "password123", name: "Pending" });
    assert.equal(s.status, 201);
    const old = await h.db.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirstOrThrow();
    const r = await signIn(ghUser({ email, name: "Taken Over" }));
    assert.equal(r.headers.location, `${FRONTEND}/auth/github/callback`, r.headers.location as string);
    const now = await h.db.db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirstOrThrow();
    assert.notEqual(now.id, old.id);
    assert.equal(now.status, "active");
    assert.equal(now.password_hash, null);
  });

  it("rejects forged, flipped, missing and mismatched state (invalid_state)", async () => {
    const flow = await start("login");
    const code = () => gh.codeFor(ghUser());
    const raw = decodeURIComponent(flow.cookie);
    const [state, mac] = raw.split(":");
    const flipped = `${state}:${mac === undefined ? "" : mac.slice(0, -1)}${mac?.endsWith("0") ? "1" : "0"}:login`;
    const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
      ["tampered HMAC", { code: code(), state: flow.state }, { oauth_state: encodeURIComponent(flipped) }],
      [
        "intent flipped to signup",
        { code: code(), state: flow.state },
        { oauth_state: encodeURIComponent(`${state}:${mac}:signup`) },
      ],
      ["no cookie", { code: code(), state: flow.state }, {}],
      ["state of another flow", { code: code(), state: "0".repeat(32) }, { oauth_state: flow.cookie }],
      ["no state", { code: code() }, { oauth_state: flow.cookie }],
    ];
    for (const [what, query, cookies] of cases) {
      assert.equal(errorOf(await callback(query, cookies)), "invalid_state", what);
    }
    assert.equal(gh.tokenRequests.filter((t) => cases.some(([, q]) => q.code === t.code)).length, 0, "no exchange");
  });

  it("passes a refusal on GitHub through as access_denied and needs a code (missing_code)", async () => {
    const flow = await start("signup");
    const denied = await callback({ error: "access_denied", state: flow.state }, { oauth_state: flow.cookie });
    assert.equal(errorOf(denied), "access_denied");
    assert.equal(errorOf(await callback({ state: flow.state }, { oauth_state: flow.cookie })), "missing_code");
  });

  it("reports exchange_failed for a bad code, a failing GitHub and an account without a verified email", async () => {
    const flow = await start("signup");
    assert.equal(
      errorOf(await callback({ code: "not-a-code", state: flow.state }, { oauth_state: flow.cookie })),
      "exchange_failed",
    );
    const reused = gh.codeFor(ghUser());
    await callback({ code: reused, state: flow.state }, { oauth_state: flow.cookie });
    assert.equal(
      errorOf(await callback({ code: reused, state: flow.state }, { oauth_state: flow.cookie })),
      "exchange_failed",
    );
    gh.failProfileWith = 502;
    try {
      assert.equal(errorOf(await signIn(ghUser())), "exchange_failed");
    } finally {
      gh.failProfileWith = undefined;
    }
    const unverified = ghUser({ email: null, emails: [{ email: "x@example.com", primary: true, verified: false }] });
    assert.equal(errorOf(await signIn(unverified)), "exchange_failed");
  });

  it("uses the primary verified address when the profile email is private", async () => {
    const priv = ghUser({
      email: null,
      emails: [
        { email: "other@example.com", primary: false, verified: true },
        { email: "Primary-Private@Example.com", primary: true, verified: true },
      ],
    });
    const c = setCookies(await signIn(priv));
    assert.equal(decodeURIComponent(c.get("wrenn_oauth_email")?.value ?? ""), "primary-private@example.com");
  });

  it("refuses a disabled account (account_deactivated)", async () => {
    const octo = ghUser();
    const userId = setCookies(await signIn(octo)).get("wrenn_oauth_user_id")?.value ?? "";
    await h.db.db.updateTable("users").set({ status: "disabled" }).where("id", "=", userId).execute();
    assert.equal(errorOf(await signIn(octo, "login")), "account_deactivated");
  });

  it("links GitHub to a password account from settings, and refuses an identity linked elsewhere", async () => {
    const pw = await h.user("linker");
    const connect = await h.req("GET", "/v1/me/providers/github/connect", { jwt: pw.token });
    assert.equal(connect.status, 200, connect.body);
    const authUrl = new URL(connect.json.auth_url);
    assert.equal(authUrl.pathname, "/login/oauth/authorize");
    const c = setCookies(connect);
    const stateCookie = c.get("oauth_state")?.value ?? "";
    const linkCookie = c.get("oauth_link_user_id")?.value ?? "";
    assert.match(c.get("oauth_link_user_id")?.attrs ?? "", /HttpOnly/);
    assert.equal(decodeURIComponent(linkCookie).split(":")[0], pw.user_id);
    const state = authUrl.searchParams.get("state") ?? "";

    // A link cookie naming someone else (signature kept) is refused.
    const forged = encodeURIComponent(`usr-someoneelse:${decodeURIComponent(linkCookie).split(":")[1]}`);
    const bad = await callback(
      { code: gh.codeFor(ghUser()), state },
      { oauth_state: stateCookie, oauth_link_user_id: forged },
    );
    assert.equal(bad.headers.location, `${FRONTEND}/dashboard/settings?connect_error=invalid_state`);

    const mine = ghUser();
    const ok = await callback(
      { code: gh.codeFor(mine), state },
      { oauth_state: stateCookie, oauth_link_user_id: linkCookie },
    );
    assert.equal(ok.headers.location, `${FRONTEND}/dashboard/settings?connected=github`);
    assert.match(setCookies(ok).get("oauth_link_user_id")?.attrs ?? "", /Max-Age=0|Expires=Thu, 01 Jan 1970/);
    const me = await h.req("GET", "/v1/me", { jwt: pw.token });
    assert.deepEqual(me.json.providers, ["github"]);
    assert.equal(me.json.has_password, true);
    // The linked identity now signs the password user in.
    assert.equal(setCookies(await signIn(mine, "login")).get("wrenn_oauth_user_id")?.value, pw.user_id);

    const other = await h.user("other");
    const otherConnect = await h.req("GET", "/v1/me/providers/github/connect", { jwt: other.token });
    const oc = setCookies(otherConnect);
    const taken = await callback(
      { code: gh.codeFor(mine), state: new URL(otherConnect.json.auth_url).searchParams.get("state") ?? "" },
      {
        oauth_state: oc.get("oauth_state")?.value ?? "",
        oauth_link_user_id: oc.get("oauth_link_user_id")?.value ?? "",
      },
    );
    assert.equal(taken.headers.location, `${FRONTEND}/dashboard/settings?connect_error=already_linked`);
    const otherMe = await h.req("GET", "/v1/me", { jwt: other.token });
    assert.deepEqual(otherMe.json.providers, []);
  });

  it("unlinks a provider, but never the last way to sign in (last_login_method)", async () => {
    const token = setCookies(await signIn(ghUser())).get("wrenn_oauth_token")?.value ?? "";
    const last = await h.req("DELETE", "/v1/me/providers/github", { jwt: token });
    assert.equal(last.status, 400, last.body);
    assert.equal(last.json.error.code, "last_login_method");

    // An OAuth-only user adds a password (no current one to give), then may unlink.
    const unconfirmed = await h.req("POST", "/v1/me/password", { jwt: token }, { new_password: "new-password-1" });
    assert.equal(unconfirmed.status, 400, unconfirmed.body);
    assert.equal(unconfirmed.json.error.code, "invalid_request");
    const add = await h.req(
      "POST",
      "/v1/me/password",
      { jwt: token },
      { new_password: "new-password-1", confirm_password: "new-password-1" },
    );
    assert.equal(add.status, 204, add.body);
    const me = await h.req("GET", "/v1/me", { jwt: token });
    assert.equal(me.json.has_password, true);
    assert.equal(h.mail.at(-1)?.to, me.json.email);
    assert.equal(h.mail.at(-1)?.subject, "Password added to your Wrenn account");
    const login = await h.req("POST", "/v1/auth/login", undefined, {
      email: me.json.email,
      password: "new-password-1",
    });
    assert.equal(login.status, 200, login.body);

    const del = await h.req("DELETE", "/v1/me/providers/github", { jwt: token });
    assert.equal(del.status, 204, del.body);
    assert.deepEqual((await h.req("GET", "/v1/me", { jwt: token })).json.providers, []);
    const again = await h.req("DELETE", "/v1/me/providers/github", { jwt: token });
    assert.equal(again.status, 404);
    assert.equal(again.json.error.code, "not_found");
    const unknown = await h.req("DELETE", "/v1/me/providers/gitlab", { jwt: token });
    assert.equal(unknown.status, 404);
    const anon = await h.req("DELETE", "/v1/me/providers/github");
    assert.equal(anon.status, 401);
  });

  it("lists the OAuth routes in the OpenAPI document", async () => {
    const doc = await h.req("GET", "/openapi.json");
    const paths = Object.keys(doc.json?.paths ?? {});
    for (const p of [
      "/auth/oauth/{provider}",
      "/auth/oauth/{provider}/callback",
      "/v1/auth/oauth/{provider}",
      "/v1/me/providers/{provider}/connect",
      "/v1/me/providers/{provider}",
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.filter((x) => x.includes("oauth") || x.includes("providers"))}`);
    }
  });
});

describe("GitHub OAuth when not configured", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(() => h.close());

  it("says how to enable it instead of redirecting", async () => {
    const u = await h.user("nogh");
    for (const [url, cred] of [
      ["/auth/oauth/github", undefined],
      ["/auth/oauth/github/callback?code=x&state=y", undefined],
      ["/v1/me/providers/github/connect", { jwt: u.token }],
    ] as const) {
      const r = await h.req("GET", url, cred);
      assert.equal(r.status, 404, url);
      assert.equal(r.json.error.code, "not_found");
      assert.match(r.json.error.message, /OAUTH_GITHUB_CLIENT_ID/);
    }
  });
});
