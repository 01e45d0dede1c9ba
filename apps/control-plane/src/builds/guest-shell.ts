import { Code, ConnectError } from "@connectrpc/connect";
import type { AgentClient } from "../agents/agent-pool.ts";

/** What one shell script in the build capsule produced; a timeout is exit -1 with the reason in stderr. */
export interface ShellResult {
  stdout: string;
  stderr: string;
  exit: number;
}

/** Room for the agent to report its own timeout before the RPC deadline fires. */
const RPC_SLACK_MS = 15_000;
/** Output kept per stream in a build log entry, so a chatty step cannot bloat the row. */
const MAX_OUTPUT_CHARS = 64 * 1024;

const keepTail = (s: string) => (s.length > MAX_OUTPUT_CHARS ? `…${s.slice(-MAX_OUTPUT_CHARS)}` : s);

/**
 * Runs `/bin/sh -c <script>` in a capsule through its agent's Exec, killed after `timeoutMs` (the agent's deadline).
 * Aborting `signal` cancels the RPC (the agent kills the command). Agent failures other than the timeout throw.
 */
export async function runGuestShell(
  client: AgentClient,
  capsuleId: string,
  script: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ShellResult> {
  const timeoutSec = Math.max(1, Math.ceil(timeoutMs / 1000));
  try {
    const r = await client.exec(
      { capsuleId, cmd: "/bin/sh", args: ["-c", script], timeoutSec },
      { timeoutMs: timeoutSec * 1000 + RPC_SLACK_MS, signal },
    );
    const dec = new TextDecoder();
    return { stdout: keepTail(dec.decode(r.stdout)), stderr: keepTail(dec.decode(r.stderr)), exit: r.exitCode };
  } catch (err) {
    if (!signal.aborted && err instanceof ConnectError && err.code === Code.DeadlineExceeded) {
      return { stdout: "", stderr: `timed out after ${timeoutSec}s`, exit: -1 };
    }
    throw err;
  }
}
