import type { TeamRole } from "../db/schema.ts";

/** Who is calling: a user (JWT) acting in one team, or a team API key. */
export interface AuthContext {
  kind: "user" | "api_key";
  teamId: string;
  /** Set for users; undefined for API keys. */
  userId?: string;
  email?: string;
  name?: string;
  role?: TeamRole;
  isAdmin: boolean;
  /** Set for API keys. */
  keyId?: string;
}
