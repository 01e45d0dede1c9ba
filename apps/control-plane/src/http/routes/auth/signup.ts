import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** POST /v1/auth/signup: creates an inactive user and sends (or logs) the activation link. */
export const signupRoute: Route = (app, s) => {
  app.post(
    "/v1/auth/signup",
    {
      schema: {
        tags: ["auth"],
        body: z.object({
          email: z.email().max(254),
          password: z.string().min(8).max(256),
          name: z.string().trim().min(1).max(100),
        }),
        response: { 201: z.object({ message: z.string() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.auth.signup(req.body);
      return reply.status(201).send({ message: "check your email to activate your account" });
    },
  );
};
