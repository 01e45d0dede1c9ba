import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { createTeamRoute } from "./create-team.ts";
import { deleteTeamRoute } from "./delete-team.ts";
import { getTeamRoute } from "./get-team.ts";
import { listTeamsRoute } from "./list-teams.ts";
import { addMemberRoute, leaveTeamRoute, listMembersRoute, removeMemberRoute, updateMemberRoute } from "./members.ts";
import { updateTeamRoute } from "./update-team.ts";

/** /v1/teams: user JWT only. */
export async function teamRoutes(app: App, opts: { s: Services }) {
  requireAuth(app, opts.s.authn, { apiKey: false });
  registerRoutes(app, opts.s, [
    listTeamsRoute,
    createTeamRoute,
    getTeamRoute,
    updateTeamRoute,
    deleteTeamRoute,
    listMembersRoute,
    addMemberRoute,
    updateMemberRoute,
    removeMemberRoute,
    leaveTeamRoute,
  ]);
}
