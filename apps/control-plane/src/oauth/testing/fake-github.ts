import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GitHubOAuthConfig } from "../oauth-config.ts";

/** A GitHub account as the fake serves it. `email: null` is a private profile email. */
export interface FakeGitHubUser {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
  /** What `/user/emails` answers. */
  emails?: Array<{ email: string; primary: boolean; verified: boolean }>;
}

/**
 * GitHub's OAuth token endpoint and the two REST calls sign-in makes, on 127.0.0.1, laid out like GitHub
 * Enterprise (`/login/oauth/...` on the web URL, REST under `/api/v3`). Codes are single-use, as on GitHub.
 */
export class FakeGitHub {
  readonly clientId = "fake-client-id";
  readonly clientSecret = "fake-client-secret";
  /** Every token request's form fields, oldest first. */
  readonly tokenRequests: Array<Record<string, string>> = [];
  /** When set, `/user` answers this HTTP status instead of the profile. */
  failProfileWith?: number;
  private readonly codes = new Map<string, FakeGitHubUser>();
  private readonly tokens = new Map<string, FakeGitHubUser>();
  private server!: Server;
  private baseUrl = "";

  static async start(): Promise<FakeGitHub> {
    const f = new FakeGitHub();
    f.server = createServer((req, res) => {
      f.handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => f.server.listen(0, "127.0.0.1", resolve));
    f.baseUrl = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** The settings that point the control plane here. */
  get config(): GitHubOAuthConfig {
    return {
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      webUrl: this.baseUrl,
      apiUrl: `${this.baseUrl}/api/v3`,
    };
  }

  /** A fresh authorization code that GitHub would hand `user`'s browser after consent. */
  codeFor(user: FakeGitHubUser): string {
    const code = randomBytes(10).toString("hex");
    this.codes.set(code, user);
    return code;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", this.baseUrl);
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      const form = Object.fromEntries(new URLSearchParams(raw));
      this.tokenRequests.push(form);
      const user = this.codes.get(form.code ?? "");
      this.codes.delete(form.code ?? "");
      if (form.client_id !== this.clientId || form.client_secret !== this.clientSecret) {
        return json(200, { error: "incorrect_client_credentials" });
      }
      if (!user) return json(200, { error: "bad_verification_code" });
      const token = `gho_${randomBytes(12).toString("hex")}`;
      this.tokens.set(token, user);
      return json(200, { access_token: token, token_type: "bearer", scope: "user:email" });
    }
    const user = this.tokens.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
    if (!user) return json(401, { message: "Bad credentials" });
    if (req.method === "GET" && url.pathname === "/api/v3/user") {
      if (this.failProfileWith) return json(this.failProfileWith, { message: "unavailable" });
      return json(200, { id: user.id, login: user.login, name: user.name, email: user.email });
    }
    if (req.method === "GET" && url.pathname === "/api/v3/user/emails") return json(200, user.emails ?? []);
    return json(404, { message: "Not Found" });
  }
}
