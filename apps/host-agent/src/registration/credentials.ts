/** The host's control-plane credentials in `<root>/host-token` (JSON, mode 0600). */
import { readFile, rename, rm, writeFile } from "node:fs/promises";

/** Contents of host-token (docs/architecture.md "Files on a host"). */
export interface HostCredentials {
  readonly host_id: string;
  readonly token: string;
  readonly refresh_token: string;
  readonly agent_key: string;
  readonly cp_url: string;
}

/** Reads saved credentials; undefined when absent or unreadable. */
export async function loadCredentials(path: string): Promise<HostCredentials | undefined> {
  try {
    const c = JSON.parse(await readFile(path, "utf8")) as HostCredentials;
    return c.host_id && c.token && c.refresh_token ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Saves credentials atomically with mode 0600. */
export async function saveCredentials(path: string, c: HostCredentials): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(c, null, 2), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Removes the credentials (the host was deleted). */
export async function deleteCredentials(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Seconds until a JWT's `exp` (not verified: the control plane checks it), or undefined when it has none. */
export function jwtSecondsLeft(token: string, nowMs = Date.now()): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      exp?: number;
    };
    return typeof payload.exp === "number" ? payload.exp - nowMs / 1000 : undefined;
  } catch {
    return undefined;
  }
}
