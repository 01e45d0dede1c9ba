import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** What the browser set out to do: sign in to an existing account, or create one. */
export type OAuthIntent = "login" | "signup";

const hmacHex = (key: string, data: string) => createHmac("sha256", key).update(data).digest("hex");

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A fresh `state` for the provider and the `oauth_state` cookie that vouches for it: `state:hmac:intent`, the HMAC
 * (keyed with the JWT secret) covering state and intent, so a browser can neither forge a state nor flip its intent.
 */
export function newOAuthState(key: string, intent: OAuthIntent): { state: string; cookie: string } {
  const state = randomBytes(16).toString("hex");
  return { state, cookie: `${state}:${hmacHex(key, `${state}:${intent}`)}:${intent}` };
}

/** The intent carried by a state cookie this server signed for exactly `state`; undefined for anything else. */
export function verifyOAuthState(
  key: string,
  cookie: string | undefined,
  state: string | undefined,
): OAuthIntent | undefined {
  if (!cookie || !state) return undefined;
  const [nonce, mac, intent, ...rest] = cookie.split(":");
  if (!nonce || !mac || rest.length > 0 || (intent !== "login" && intent !== "signup")) return undefined;
  if (!sameText(mac, hmacHex(key, `${nonce}:${intent}`)) || !sameText(nonce, state)) return undefined;
  return intent;
}

// Prefixed so a link signature can never double as a state signature.
const linkMac = (key: string, userId: string) => hmacHex(key, `oauth-link:${userId}`);

/** The `oauth_link_user_id` cookie: `userId:hmac`, so the callback knows whom to link without trusting the browser. */
export function signLinkUserId(key: string, userId: string): string {
  return `${userId}:${linkMac(key, userId)}`;
}

/** The user id of a link cookie this server signed; undefined when it is malformed or tampered with. */
export function verifyLinkUserId(key: string, cookie: string): string | undefined {
  const i = cookie.lastIndexOf(":");
  if (i <= 0) return undefined;
  const userId = cookie.slice(0, i);
  return sameText(cookie.slice(i + 1), linkMac(key, userId)) ? userId : undefined;
}
