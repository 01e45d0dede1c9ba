import type { Authenticator } from "../../../auth/authenticator.ts";
import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { activateRoute } from "./activate.ts";
import { loginRoute } from "./login.ts";
import { passwordResetConfirmRoute, passwordResetRoute } from "./password-reset.ts";
import { signupRoute } from "./signup.ts";
import { switchTeamRoute } from "./switch-team.ts";

/** /v1/auth/*: public signup, activation, login and resets; switch-team needs a user JWT. */
export async function authRoutes(app: App, opts: { s: Services }) {
  registerRoutes(app, opts.s, [signupRoute, activateRoute, loginRoute, passwordResetRoute, passwordResetConfirmRoute]);
  await app.register(async (scope: App) => {
    requireAuth(scope, opts.s.authn as Authenticator, { apiKey: false });
    registerRoutes(scope, opts.s, [switchTeamRoute]);
  });
}
