/**
 * Where `wrenn up` keeps its things. The control plane owns `<dataDir>/db` and its secret; `wrenn up` owns the
 * rest: `state.json` (admin credentials, API key, host id; 0600), `run/*.pid`, `logs/*.log`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Default data directory of the local stack. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.WRENN_DATA_DIR || join(env.HOME || homedir(), ".local", "share", "wrenn");
}

/** Root of the repository (the CLI runs the other apps from their source). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** Paths of one data directory. */
export function stackLayout(dataDir: string) {
  return {
    dataDir,
    state: join(dataDir, "state.json"),
    runDir: join(dataDir, "run"),
    cpPid: join(dataDir, "run", "control-plane.pid"),
    agentPid: join(dataDir, "run", "host-agent.pid"),
    stackFile: join(dataDir, "run", "stack.json"),
    cpLog: join(dataDir, "logs", "control-plane.log"),
    agentLog: join(dataDir, "logs", "host-agent.log"),
  };
}

/** What `wrenn up` remembers between runs. */
export interface StackState {
  email: string;
  password: string;
  api_key: string;
  user_id: string;
  team_id: string;
  host_id: string;
}

/** Reads `state.json`, or undefined on first start. */
export function readState(path: string): StackState | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as StackState;
}

/** Writes a JSON file readable only by its owner. */
export function writePrivateJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}
