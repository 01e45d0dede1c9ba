/**
 * Runs the control plane's `bootstrap` subcommand: an active admin, a team, a fresh API key, a `regular` host and a
 * one-hour registration token. Runs before the server starts, so the embedded database is never opened twice.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./stack-layout.ts";

const run = promisify(execFile);

/** The JSON `bootstrap` prints. */
export interface BootstrapResult {
  user_id: string;
  team_id: string;
  email: string;
  api_key: string;
  jwt: string;
  host_id: string;
  registration_token: string;
}

/** Runs bootstrap with the control plane's environment; throws with its output on failure. */
export async function runBootstrap(email: string, password: string, env: NodeJS.ProcessEnv): Promise<BootstrapResult> {
  const main = join(REPO_ROOT, "apps", "control-plane", "src", "main.ts");
  try {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", main, "bootstrap", `--email=${email}`, `--password=${password}`],
      { cwd: REPO_ROOT, env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? "warn" }, timeout: 180_000, maxBuffer: 16 << 20 },
    );
    const line = stdout
      .trim()
      .split("\n")
      .reverse()
      .find((l) => l.trim().startsWith("{"));
    if (!line) throw new Error(`bootstrap printed no JSON:\n${stdout.slice(-2000)}`);
    return JSON.parse(line) as BootstrapResult;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`control plane bootstrap failed: ${e.message}\n${(e.stderr ?? "").slice(-3000)}`);
  }
}
