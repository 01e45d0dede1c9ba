import type { RouteMount } from "../../route.ts";

/** The team capsule routes' mount; the admin ones reuse the same handlers at `/v1/admin/capsules`. */
export const TEAM_CAPSULES: RouteMount = { base: "/v1/capsules" };
