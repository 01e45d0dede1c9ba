import type { hostagent } from "@wrenn/protocol";
import type { Kysely } from "kysely";
import type { AgentClient, AgentPool } from "../agents/agent-pool.ts";
import { agentErrorToWrenn } from "../agents/connect-errors.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { randomHex } from "../ids.ts";
import { type CapsuleWithHost, capsuleOfTeam, targetOf } from "./capsule-store.ts";
import type { CapsuleViewCache } from "./capsule-view-cache.ts";

/** Foreground exec request (reference §1.2 Exec, plus envs and cwd honoured in the foreground). */
export interface ExecInput {
  cmd: string;
  args: string[];
  timeout_sec: number;
  background: boolean;
  tag?: string;
  envs?: Record<string, string>;
  cwd?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
function decodeUtf8(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

/** Commands, processes and files of running capsules, through the capsule's host agent. */
export function createCapsuleOps(
  db: Kysely<Database>,
  agents: AgentPool,
  opts: {
    touchEveryMs?: number;
    cache?: CapsuleViewCache<CapsuleWithHost>;
    /**
     * Where `last_active_at` is written: a handle outside the write watch that empties the read caches, since no
     * cached read depends on that column within its window, and a busy capsule's activity would otherwise empty
     * them for every capsule once a second. Defaults to `db`.
     */
    activityDb?: Kysely<Database>;
  } = {},
) {
  const touchEveryMs = opts.touchEveryMs ?? 1000;
  const { cache } = opts;
  const activityDb = opts.activityDb ?? db;
  /**
   * The team's running capsule and its agent client; 404 for others' capsules, 409 when not running. Every caller is
   * user activity (exec, streams, PTY, process and file calls), so it bumps `last_active_at` (reference §1.2).
   *
   * The rows may come from `cache` (one PostgreSQL round trip less on every exec and file call). A capsule another
   * replica paused or destroyed within the cache's window still reaches its agent, which refuses the call itself.
   */
  async function running(teamId: string, id: string, action: string): Promise<{ client: AgentClient; id: string }> {
    const load = () => capsuleOfTeam(db, teamId, id);
    const c = await (cache ? cache.get(teamId, id, load) : load());
    if (c.status !== "running") throw errors.invalidState(id, c.status, action);
    const client = agents.client(targetOf(c));
    touch(id);
    return { client, id };
  }

  // When each capsule's last_active_at was last written by this replica: a busy capsule costs one UPDATE per
  // `touchEveryMs` (the capsule read cache's staleness), not one per call; the agent keeps the exact activity clock
  // that drives auto-pause.
  const lastTouched = new Map<string, number>();

  /** Records activity without delaying the answer. */
  function touch(id: string) {
    const now = Date.now();
    if ((lastTouched.get(id) ?? 0) + touchEveryMs > now) return;
    lastTouched.set(id, now);
    if (lastTouched.size > 10_000) {
      for (const [k, at] of lastTouched) if (at + touchEveryMs <= now) lastTouched.delete(k);
    }
    activityDb
      .updateTable("capsules")
      .set({ last_active_at: new Date() })
      .where("id", "=", id)
      .execute()
      .catch(() => {});
  }

  async function call<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw agentErrorToWrenn(err);
    }
  }

  return {
    running,
    touch,

    async exec(teamId: string, id: string, input: ExecInput) {
      const { client } = await running(teamId, id, "exec");
      if (input.background) {
        const tag = input.tag || `proc-${randomHex(4)}`;
        const r = await call(
          client.startBackground(
            { capsuleId: id, cmd: input.cmd, args: input.args, envs: input.envs ?? {}, cwd: input.cwd ?? "", tag },
            { timeoutMs: 30_000 },
          ),
        );
        return { status: 202 as const, body: { sandbox_id: id, cmd: input.cmd, pid: r.pid, tag: r.tag || tag } };
      }
      const started = performance.now();
      const r = await call(
        client.exec(
          {
            capsuleId: id,
            cmd: input.cmd,
            args: input.args,
            envs: input.envs ?? {},
            cwd: input.cwd ?? "",
            timeoutSec: input.timeout_sec,
          },
          // Leave the agent room to report its own timeout before ours fires.
          { timeoutMs: (input.timeout_sec + 15) * 1000 },
        ),
      );
      const out = decodeUtf8(r.stdout);
      const err = decodeUtf8(r.stderr);
      const isText = out !== undefined && err !== undefined;
      return {
        status: 200 as const,
        body: {
          sandbox_id: id,
          cmd: input.cmd,
          stdout: isText ? out : Buffer.from(r.stdout).toString("base64"),
          stderr: isText ? err : Buffer.from(r.stderr).toString("base64"),
          exit_code: r.exitCode,
          duration_ms: Number(r.durationMs) || Math.round(performance.now() - started),
          encoding: isText ? ("utf-8" as const) : ("base64" as const),
        },
      };
    },

    async listProcesses(teamId: string, id: string) {
      const { client } = await running(teamId, id, "list processes");
      const r = await call(client.listProcesses({ capsuleId: id }, { timeoutMs: 30_000 }));
      return { processes: r.processes.map((p) => ({ pid: p.pid, tag: p.tag, cmd: p.cmd, args: p.args })) };
    },

    async killProcess(teamId: string, id: string, selector: string, signal: "SIGKILL" | "SIGTERM") {
      const { client } = await running(teamId, id, "signal a process");
      await call(
        client.killProcess(
          { capsuleId: id, selector: { selector: parseSelector(selector) }, signal },
          { timeoutMs: 30_000 },
        ),
      );
    },

    async writeFile(teamId: string, id: string, path: string, content: Uint8Array) {
      const { client } = await running(teamId, id, "write files");
      await call(client.writeFile({ capsuleId: id, path, content }, { timeoutMs: 120_000 }));
    },

    async readFile(teamId: string, id: string, path: string): Promise<Uint8Array> {
      const { client } = await running(teamId, id, "read files");
      return (await call(client.readFile({ capsuleId: id, path }, { timeoutMs: 120_000 }))).content;
    },

    async listDir(teamId: string, id: string, path: string, depth: number) {
      const { client } = await running(teamId, id, "list files");
      const r = await call(client.listDir({ capsuleId: id, path, depth }, { timeoutMs: 30_000 }));
      return { entries: r.entries.map(fileEntryView) };
    },

    async makeDir(teamId: string, id: string, path: string) {
      const { client } = await running(teamId, id, "make directories");
      const r = await call(client.makeDir({ capsuleId: id, path }, { timeoutMs: 30_000 }));
      return { entry: r.entry ? fileEntryView(r.entry) : null };
    },

    async remove(teamId: string, id: string, path: string) {
      const { client } = await running(teamId, id, "remove files");
      await call(client.removePath({ capsuleId: id, path }, { timeoutMs: 30_000 }));
    },
  };
}

/** A numeric selector is a PID, anything else a tag (reference §1.2 processes). */
export function parseSelector(s: string): { case: "pid"; value: number } | { case: "tag"; value: string } {
  if (/^\d+$/.test(s) && Number(s) <= 0xffffffff) return { case: "pid", value: Number(s) };
  return { case: "tag", value: s };
}

/** FileEntry as the API shows it (snake_case, modified_at in unix seconds). */
export function fileEntryView(e: hostagent.FileEntry) {
  return {
    name: e.name,
    path: e.path,
    type: e.type,
    size: Number(e.size),
    mode: e.mode,
    permissions: e.permissions,
    owner: e.owner,
    group: e.group,
    modified_at: Number(e.modifiedAt),
    ...(e.symlinkTarget !== undefined ? { symlink_target: e.symlinkTarget } : {}),
  };
}

/** The ops service's public shape. */
export type CapsuleOps = ReturnType<typeof createCapsuleOps>;
