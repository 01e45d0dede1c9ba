import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams, Member } from "../../schemas.ts";

const MemberParams = z.object({ id: z.string().min(1).max(200), uid: z.string().min(1).max(200) });

/** GET /v1/teams/{id}/members. */
export const listMembersRoute: Route = (app, s) => {
  app.get(
    "/v1/teams/:id/members",
    { schema: { tags: ["teams"], params: IdParams, response: { 200: z.array(Member), ...errorResponses } } },
    async (req) => s.teams.members(req.auth, req.params.id),
  );
};

/** POST /v1/teams/{id}/members: adds an existing user by email as `member`. */
export const addMemberRoute: Route = (app, s) => {
  app.post(
    "/v1/teams/:id/members",
    {
      schema: {
        tags: ["teams"],
        params: IdParams,
        body: z.object({ email: z.string().min(3).max(254) }),
        response: { 201: Member, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.teams.addMember(req.auth, req.params.id, req.body.email)),
  );
};

/** PATCH /v1/teams/{id}/members/{uid}: sets role admin or member. */
export const updateMemberRoute: Route = (app, s) => {
  app.patch(
    "/v1/teams/:id/members/:uid",
    {
      schema: {
        tags: ["teams"],
        params: MemberParams,
        body: z.object({ role: z.enum(["admin", "member"]) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.teams.setRole(req.auth, req.params.id, req.params.uid, req.body.role);
      return reply.status(204).send(null);
    },
  );
};

/** DELETE /v1/teams/{id}/members/{uid}: removes a member (never the owner). */
export const removeMemberRoute: Route = (app, s) => {
  app.delete(
    "/v1/teams/:id/members/:uid",
    { schema: { tags: ["teams"], params: MemberParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.teams.removeMember(req.auth, req.params.id, req.params.uid);
      return reply.status(204).send(null);
    },
  );
};

/** POST /v1/teams/{id}/leave: leaves a team (never the owner). */
export const leaveTeamRoute: Route = (app, s) => {
  app.post(
    "/v1/teams/:id/leave",
    { schema: { tags: ["teams"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.teams.leave(req.auth, req.params.id);
      return reply.status(204).send(null);
    },
  );
};
