/**
 * The few control-plane calls the local stack makes itself (plain fetch, so `startLocalStack` does not depend on
 * how the SDK package resolves).
 */

/** Calls the API; returns parsed JSON (or undefined for 204); throws with the API's error code on failure. */
export async function api<T>(
  baseUrl: string,
  path: string,
  init: { method?: string; json?: unknown; jwt?: string; apiKey?: string; timeoutMs?: number } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.jwt) headers.authorization = `Bearer ${init.jwt}`;
  if (init.apiKey) headers["x-api-key"] = init.apiKey;
  const res = await fetch(baseUrl + path, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON
    }
    throw Object.assign(new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${code}: ${message}`), {
      status: res.status,
      code,
    });
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Logs in and returns the user JWT. */
export async function loginJwt(baseUrl: string, email: string, password: string): Promise<string> {
  const body = await api<{ token: string }>(baseUrl, "/v1/auth/login", { json: { email, password } });
  return body.token;
}

/** Destroys every capsule of the team that is not stopped; best effort, returns how many were destroyed. */
export async function destroyAllCapsules(baseUrl: string, apiKey: string): Promise<number> {
  const list = await api<{ id: string }[]>(baseUrl, "/v1/capsules", { apiKey });
  let n = 0;
  for (const c of list ?? []) {
    try {
      await api(baseUrl, `/v1/capsules/${c.id}`, { method: "DELETE", apiKey, timeoutMs: 120_000 });
      n++;
    } catch {
      // keep going: teardown must not stop at the first failure
    }
  }
  return n;
}
