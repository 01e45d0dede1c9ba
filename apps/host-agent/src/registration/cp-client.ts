/** The three control-plane REST calls the agent makes: register, heartbeat, refresh. */
import { AgentError } from "../errors.ts";

/** Credentials as the control plane returns them. */
export interface IssuedCredentials {
  readonly host: { readonly id: string };
  readonly token: string;
  readonly refresh_token: string;
  readonly agent_key: string;
}

/** Host facts sent at registration. */
export interface HostSpecs {
  readonly arch: string;
  readonly cpu_cores: number;
  readonly memory_mb: number;
  readonly disk_gb: number;
  readonly address: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body ?? {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new AgentError("unavailable", `control plane at ${url} unreachable: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function credentialsFrom(res: Response, what: string): Promise<IssuedCredentials> {
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    const code = res.status === 401 || res.status === 403 ? "unauthenticated" : "unavailable";
    throw new AgentError(code, `${what} failed with HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  return (await res.json()) as IssuedCredentials;
}

/** POST /v1/hosts/register with the one-hour token. */
export async function registerHost(cpUrl: string, token: string, specs: HostSpecs): Promise<IssuedCredentials> {
  return credentialsFrom(await post(`${cpUrl}/v1/hosts/register`, { token, ...specs }), "registration");
}

/** POST /v1/hosts/auth/refresh. */
export async function refreshCredentials(cpUrl: string, refreshToken: string): Promise<IssuedCredentials> {
  return credentialsFrom(await post(`${cpUrl}/v1/hosts/auth/refresh`, { refresh_token: refreshToken }), "refresh");
}

/** POST /v1/hosts/{id}/heartbeat; returns the HTTP status (204 ok, 401/403 refresh, 404 deleted). */
export async function heartbeat(
  cpUrl: string,
  hostId: string,
  token: string,
  metadata: Record<string, string>,
): Promise<number> {
  const res = await post(
    `${cpUrl}/v1/hosts/${encodeURIComponent(hostId)}/heartbeat`,
    { metadata },
    { "X-Host-Token": token },
  );
  await res.body?.cancel();
  return res.status;
}
