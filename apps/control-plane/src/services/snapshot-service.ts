import { Code, ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentClient, AgentPool } from "../agents/agent-pool.ts";
import { agentErrorToWrenn } from "../agents/connect-errors.ts";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database, Template, TemplateType } from "../db/schema.ts";
import { errors, WrennError } from "../errors.ts";
import { newId, PLATFORM_TEAM_ID, randomHex } from "../ids.ts";
import type { AuditLog } from "./audit-log.ts";
import { type CapsuleWithHost, capsuleOfTeam, targetOf } from "./capsule-store.ts";
import { acquireLease, agentState, fromInfo, releaseLease, transition } from "./capsule-transitions.ts";
import {
  isPlatformName,
  listTemplates,
  PLATFORM_TEMPLATES,
  type TemplateView,
  teamTemplate,
  templateView,
} from "./template-store.ts";

/**
 * Snapshots run on a deadline of their own, not the request's: a client that disconnects must not leave a half-made
 * template behind (reference §5: a detached 5-minute context).
 */
export const SNAPSHOT_RPC_MS = 300_000;
const DELETE_RPC_MS = 60_000;

/** Dependencies of the snapshot service. */
export interface SnapshotServiceDeps {
  db: Kysely<Database>;
  agents: AgentPool;
  audit: AuditLog;
  log: Logger;
  /** Destroys a capsule (the capsule service's `destroy`): platform snapshots end with their source capsule gone. */
  destroyCapsule: (actor: AuthContext | "system", teamId: string, id: string) => Promise<void>;
}

/** Optional parts of `snapshotAsPlatformTemplate`. */
export interface PlatformSnapshotOptions {
  /** Who asked, for the audit log (default: system, as for a template build). */
  actor?: AuthContext | "system";
  /** The template's `default_user`, passed to the agent on create and resume (default root). */
  defaultUser?: string;
  /** The template's `default_env` (default none). */
  defaultEnv?: Record<string, string>;
}

/** Template defaults stored with a snapshot (see `PlatformSnapshotOptions`). */
type TemplateDefaults = Pick<PlatformSnapshotOptions, "defaultUser" | "defaultEnv">;

/** A template as the admin list shows it, with its owning team (reference §1.2 `GET /v1/admin/templates`). */
export interface AdminTemplateView {
  name: string;
  type: TemplateType;
  vcpus: number;
  memory_mb: number;
  size_bytes: number;
  team_id: string;
  created_at: string;
}

/** Template names (reference `validate.SafeName`). */
const SAFE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

/** Templates made from capsules: `POST /v1/snapshots`, list, delete, and platform snapshots (reference §1.2, §5). */
export function createSnapshotService(deps: SnapshotServiceDeps) {
  const { db, agents, audit, log } = deps;

  /** Records the source capsule's state after the snapshot: what the agent reports, else what it holds. */
  async function settleSource(client: AgentClient, id: string, info: hostagent.CapsuleInfo | undefined) {
    const state = info ? undefined : await agentState(client, id);
    const reported = info ?? (state && "info" in state ? state.info : undefined);
    if (!reported) {
      // The agent cannot tell: like a failed pause, assume it runs; the host monitor corrects drift.
      if (state?.kind === "absent") await transition(db, id, ["paused"], "stopped", "error: lost during snapshot");
      else await transition(db, id, ["paused"], "running", "");
      return;
    }
    const isPaused = reported.status === hostagent.CapsuleStatus.PAUSED;
    await transition(db, id, ["paused", "running"], isPaused ? "paused" : "running", "user", fromInfo(reported));
  }

  /** Online hosts' agents, all of them or only `hostId` (templates are removed from every host, as in the reference). */
  async function onlineAgents(hostId?: string) {
    let q = db
      .selectFrom("hosts")
      .select(["id", "address", "agent_key"])
      .where("status", "=", "online")
      .where("address", "!=", "");
    if (hostId) q = q.where("id", "=", hostId);
    const hosts = await q.execute();
    return hosts.map((h) => ({ hostId: h.id, client: agents.client({ ...h, agentKey: h.agent_key }) }));
  }

  /**
   * Deletes a template's files on every online host (or only on `only`). A failure on `holder`, the host the
   * template lives on, is the caller's error; elsewhere it is logged.
   */
  async function deleteFiles(teamId: string, name: string, holder: string | null, only?: string): Promise<void> {
    const results = await Promise.allSettled(
      (await onlineAgents(only)).map(async ({ hostId, client }) => {
        try {
          await client.deleteSnapshot({ teamId, name }, { timeoutMs: DELETE_RPC_MS });
        } catch (err) {
          if (err instanceof ConnectError && err.code === Code.NotFound) return;
          if (hostId === holder) throw agentErrorToWrenn(err);
          log.warn({ err, hostId, template: name }, "template files not deleted on a host");
        }
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /**
   * Snapshots capsule `c` into `teamId`'s template `name` on its agent, under the capsule's lifecycle lease, and records
   * the source capsule's state afterwards. Agent errors come back as WrennErrors.
   */
  async function snapshotOnAgent(
    c: CapsuleWithHost,
    teamId: string,
    name: string,
    overwrite: boolean,
    clog: Logger,
  ): Promise<hostagent.CreateSnapshotResponse> {
    if (c.status !== "running" && c.status !== "paused") throw errors.invalidState(c.id, c.status, "snapshot");
    const client = agents.client(targetOf(c));
    // Pre-mark paused (reference §5) so the host monitor does not race the snapshot's pause; the lease keeps a
    // pause or resume from starting meanwhile.
    const wasRunning = c.status === "running";
    const lease = await acquireLease(
      db,
      c.id,
      [c.status],
      "snapshot",
      wasRunning ? { status: "paused", reason: "user" } : undefined,
    );
    try {
      const res = await client.createSnapshot(
        { capsuleId: c.id, teamId, name, overwrite },
        { timeoutMs: SNAPSHOT_RPC_MS },
      );
      await settleSource(client, c.id, res.capsule);
      return res;
    } catch (err) {
      clog.warn({ err }, "snapshot failed");
      if (wasRunning) await settleSource(client, c.id, undefined);
      if (err instanceof ConnectError && err.code === Code.AlreadyExists) throw errors.templateNameTaken(name);
      throw agentErrorToWrenn(err);
    } finally {
      await releaseLease(db, c.id, lease).catch((err) => clog.error({ err }, "lease not released"));
    }
  }

  /**
   * Writes the template row for a snapshot just made on `c`'s host (replacing the old row when `overwrite`), and drops
   * copies no longer reachable by name. Returns undefined when another request took the name meanwhile.
   */
  async function storeTemplate(
    c: CapsuleWithHost,
    teamId: string,
    name: string,
    res: hostagent.CreateSnapshotResponse,
    previous: Template | undefined,
    overwrite: boolean,
    clog: Logger,
    defaults: TemplateDefaults = {},
  ): Promise<Template | undefined> {
    const values = {
      type: "snapshot" as const,
      host_id: c.host_id,
      source_capsule_id: c.id,
      vcpus: res.vcpus || c.vcpus,
      memory_mb: res.memoryMb || c.memory_mb,
      size_bytes: Number(res.sizeBytes),
      metadata: JSON.stringify(c.metadata ?? {}),
      default_user: defaults.defaultUser ?? "root",
      default_env: JSON.stringify(defaults.defaultEnv ?? {}),
      created_at: new Date(),
    };
    const row = await db
      .insertInto("templates")
      .values({ id: newId("tpl"), name, team_id: teamId, ...values })
      .onConflict((oc) => (overwrite ? oc.columns(["team_id", "name"]).doUpdateSet(values) : oc.doNothing()))
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      // Another request took the name while this snapshot ran: drop this copy unless theirs is on the same host.
      const winner = await teamTemplate(db, teamId, name);
      if (c.host_id && winner?.host_id !== c.host_id) {
        await deleteFiles(teamId, name, null, c.host_id).catch(() => {});
      }
      return undefined;
    }
    if (previous?.host_id && previous.host_id !== c.host_id) {
      // Overwritten from another host: the old host's copy is no longer reachable by name.
      await deleteFiles(teamId, name, null, previous.host_id).catch((err) =>
        clog.warn({ err }, "old template copy not deleted"),
      );
    }
    clog.info({ sizeBytes: values.size_bytes, overwrite }, "template created");
    return row;
  }

  const service = {
    async create(ctx: AuthContext, input: { sandbox_id: string; name?: string }, overwrite: boolean) {
      const name = input.name ?? `template-${randomHex(4)}`;
      if (await isPlatformName(db, name)) throw errors.nameReserved(name);
      const existing = await teamTemplate(db, ctx.teamId, name);
      if (existing && !overwrite) throw errors.templateNameTaken(name);
      const c = await capsuleOfTeam(db, ctx.teamId, input.sandbox_id);
      const clog = log.child({ capsuleId: c.id, hostId: c.host_id, template: name });
      const res = await snapshotOnAgent(c, ctx.teamId, name, overwrite, clog);
      const row = await storeTemplate(c, ctx.teamId, name, res, existing, overwrite, clog);
      if (!row) throw errors.templateNameTaken(name);
      await audit.record(ctx, {
        resource_type: "template",
        resource_id: name,
        action: "create",
        metadata: { sandbox_id: c.id, overwrite },
      });
      return templateView(row);
    },

    /**
     * Snapshots a platform-team capsule into the platform template `name`, which every team can start capsules from,
     * then destroys the capsule (reference §1.2 `POST /v1/admin/capsules/{id}/snapshot`; also the last step of a
     * template build). An existing platform template of that name is overwritten. The capsule must be the platform
     * team's (404 otherwise) and running or paused (409 `invalid_state`); the seeded base images cannot be replaced
     * (409 `name_reserved`). `opts.defaultUser` / `opts.defaultEnv` become the template's `default_user` /
     * `default_env` (default root, none). The capsule is kept when the snapshot fails (in the state the agent
     * reports); a failed destroy after a successful snapshot is logged, not thrown.
     */
    async snapshotAsPlatformTemplate(
      capsuleId: string,
      name: string,
      opts: PlatformSnapshotOptions = {},
    ): Promise<TemplateView> {
      if (!SAFE_NAME.test(name)) throw errors.invalidRequest(`invalid template name "${name}"`);
      if (PLATFORM_TEMPLATES.includes(name)) throw errors.nameReserved(name);
      const actor = opts.actor ?? "system";
      const c = await capsuleOfTeam(db, PLATFORM_TEAM_ID, capsuleId);
      const existing = await teamTemplate(db, PLATFORM_TEAM_ID, name);
      const clog = log.child({ capsuleId: c.id, hostId: c.host_id, template: name, platform: true });
      const res = await snapshotOnAgent(c, PLATFORM_TEAM_ID, name, true, clog);
      const row = await storeTemplate(c, PLATFORM_TEAM_ID, name, res, existing, true, clog, opts);
      if (!row) throw errors.internal(); // unreachable: an overwriting upsert always returns its row
      await audit.record(actor, {
        resource_type: "template",
        resource_id: name,
        action: "create",
        scope: "admin",
        teamId: PLATFORM_TEAM_ID,
        metadata: { sandbox_id: c.id, overwrite: existing !== undefined },
      });
      await deps
        .destroyCapsule(actor, PLATFORM_TEAM_ID, c.id)
        .catch((err) => clog.warn({ err }, "capsule not destroyed after its platform snapshot"));
      return templateView(row);
    },

    async list(teamId: string, type?: TemplateType): Promise<TemplateView[]> {
      return (await listTemplates(db, teamId, type)).map(templateView);
    },

    async remove(ctx: AuthContext, name: string): Promise<void> {
      const own = await teamTemplate(db, ctx.teamId, name);
      if (!own) {
        if (PLATFORM_TEMPLATES.includes(name) || (await isPlatformName(db, name))) throw errors.platformTemplate(name);
        throw errors.templateNotFound(name);
      }
      await deleteFiles(ctx.teamId, name, own.host_id);
      await db.deleteFrom("templates").where("id", "=", own.id).execute();
      log.info({ teamId: ctx.teamId, template: name }, "template deleted");
      await audit.record(ctx, { resource_type: "template", resource_id: name, action: "delete", status: "warning" });
    },

    /** Every template in the database, any team's (admin view, reference §1.2 `GET /v1/admin/templates`). */
    async listAll(): Promise<AdminTemplateView[]> {
      const rows = await db.selectFrom("templates").selectAll().orderBy("team_id").orderBy("name").execute();
      return rows.map((t) => ({
        name: t.name,
        type: t.type,
        vcpus: t.vcpus,
        memory_mb: t.memory_mb,
        size_bytes: Number(t.size_bytes),
        team_id: t.team_id,
        created_at: t.created_at.toISOString(),
      }));
    },

    /**
     * Deletes a platform template: its files on every online host, then its row (reference §1.2
     * `DELETE /v1/admin/templates/{name}`). The seeded base images (`minimal`, …) cannot be deleted (403).
     */
    async removePlatformTemplate(ctx: AuthContext, name: string): Promise<void> {
      if (PLATFORM_TEMPLATES.includes(name)) throw errors.platformTemplate(name);
      const row = await teamTemplate(db, PLATFORM_TEAM_ID, name);
      if (!row) throw errors.templateNotFound(name);
      await deleteFiles(PLATFORM_TEAM_ID, name, row.host_id);
      await db.deleteFrom("templates").where("id", "=", row.id).execute();
      log.info({ template: name, platform: true }, "template deleted");
      await audit.record(ctx, {
        resource_type: "template",
        resource_id: name,
        action: "delete",
        scope: "admin",
        status: "warning",
        teamId: PLATFORM_TEAM_ID,
      });
    },

    /** Team deletion: every template of the team, files included; failures are logged, rows always go. */
    async removeTeamTemplates(teamId: string): Promise<void> {
      const rows = await db.selectFrom("templates").select(["id", "name"]).where("team_id", "=", teamId).execute();
      for (const r of rows) {
        await deleteFiles(teamId, r.name, null).catch((err) =>
          log.warn({ err: WrennError.from(err), template: r.name }, "template files not deleted"),
        );
      }
      await db.deleteFrom("templates").where("team_id", "=", teamId).execute();
    },
  };
  return service;
}

/** The snapshot service's public shape. */
export type SnapshotService = ReturnType<typeof createSnapshotService>;
