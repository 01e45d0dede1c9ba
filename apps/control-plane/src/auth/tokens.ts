import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { errors } from "../errors.ts";

/** User JWTs live 6 hours, host JWTs 7 days (reference §7). */
export const USER_JWT_TTL_SEC = 6 * 3600;
export const HOST_JWT_TTL_SEC = 7 * 24 * 3600;

/** Claims of a user JWT. */
export interface UserClaims {
  sub: string;
  team_id: string;
  role: string;
  email: string;
  name: string;
  is_admin?: boolean;
}

/** Signs and verifies user and host JWTs (HS256 with JWT_SECRET). */
export interface TokenSigner {
  signUser(claims: UserClaims): Promise<string>;
  /** Rejects expired, forged and host tokens with 401 `unauthorized`. */
  verifyUser(token: string): Promise<UserClaims>;
  signHost(hostId: string): Promise<string>;
  /** Returns the host id of a valid host token, else 401. */
  verifyHost(token: string): Promise<string>;
}

/** Creates the signer; `now` is injectable for tests (unix seconds). */
export function createTokenSigner(
  secret: string,
  now: () => number = () => Math.floor(Date.now() / 1000),
): TokenSigner {
  const key = new TextEncoder().encode(secret);
  const sign = (payload: Record<string, unknown>, ttl: number) => {
    const iat = now();
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(key);
  };
  const verify = async (token: string) => {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], currentDate: new Date(now() * 1000) });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError)
        throw errors.unauthorized("invalid or expired token");
      throw err;
    }
  };
  return {
    signUser: (c) => {
      const { is_admin, ...rest } = c;
      return sign(is_admin ? { ...rest, is_admin: true } : rest, USER_JWT_TTL_SEC);
    },
    async verifyUser(token) {
      const p = await verify(token);
      if (p.typ === "host" || typeof p.sub !== "string" || typeof p.team_id !== "string") {
        throw errors.unauthorized("invalid or expired token");
      }
      return p as unknown as UserClaims;
    },
    signHost: (hostId) => sign({ typ: "host", host_id: hostId, sub: hostId }, HOST_JWT_TTL_SEC),
    async verifyHost(token) {
      const p = await verify(token);
      if (p.typ !== "host" || typeof p.host_id !== "string") throw errors.unauthorized("invalid or expired host token");
      return p.host_id;
    },
  };
}
