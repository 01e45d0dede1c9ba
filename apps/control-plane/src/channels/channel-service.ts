import { type Kysely, type Selectable, sql } from "kysely";
import type { AuthContext } from "../auth/auth-context.ts";
import type { ChannelsTable, Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AuditLog } from "../services/audit-log.ts";
import { checkConfig, checkEvents, checkProvider, cleanChannelName, withWebhookSecret } from "./channel-config.ts";
import { DecryptError, decryptConfig, encryptConfig } from "./config-encryption.ts";
import { type ChannelEvent, rfc3339Seconds } from "./events.ts";
import { type DeliveryContext, DeliveryError, PROVIDERS, type ProviderName } from "./providers/index.ts";

/** A channel as the API shows it; `config` is never returned, a webhook `secret` only when just set. */
export interface ChannelView {
  id: string;
  team_id: string;
  name: string;
  provider: string;
  events: string[];
  created_at: string;
  updated_at: string;
  secret?: string;
}

/** A channel an event goes to, its config decrypted (only ever held in memory). */
export interface Subscriber {
  id: string;
  provider: ProviderName;
  config: Record<string, string>;
}

/** What the channel service is built from. */
export interface ChannelServiceDeps {
  db: Kysely<Database>;
  audit: AuditLog;
  /** AES-256 key (32 bytes) the config values are encrypted under. */
  encryptionKey: Buffer;
  /** Telegram base URL and per-request timeout for `test`. */
  delivery: Omit<DeliveryContext, "signal">;
}

/** Input of `create` (validated here, not only by the route schema: the rules are the service's). */
export interface NewChannel {
  name: string;
  provider: string;
  config: Record<string, string>;
  events: string[];
}

const view = (row: Selectable<ChannelsTable>, secret?: string): ChannelView => ({
  id: row.id,
  team_id: row.team_id,
  name: row.name,
  provider: row.provider,
  events: row.event_types,
  created_at: rfc3339Seconds(row.created_at),
  updated_at: rfc3339Seconds(row.updated_at),
  ...(secret !== undefined ? { secret } : {}),
});

/** PostgreSQL's unique_violation, raised by `unique (team_id, name)` when two creates race. */
const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === "23505";

/** Notification channels of a team (reference §10): CRUD, secret rotation and a test send. */
export function createChannelService(deps: ChannelServiceDeps) {
  const { db, audit, encryptionKey } = deps;

  const rowOfTeam = async (teamId: string, id: string) => {
    const row = await db
      .selectFrom("channels")
      .selectAll()
      .where("id", "=", id)
      .where("team_id", "=", teamId)
      .executeTakeFirst();
    if (!row) throw errors.notFound(`channel ${id}`);
    return row;
  };
  const nameTaken = (name: string) => errors.conflict(`a channel named "${name}" already exists in this team`);

  return {
    async create(ctx: AuthContext, input: NewChannel): Promise<ChannelView> {
      const name = cleanChannelName(input.name);
      const provider = checkProvider(input.provider);
      const events = checkEvents(input.events);
      const config = checkConfig(provider, input.config);
      const secret = withWebhookSecret(provider, config);
      let row: Selectable<ChannelsTable>;
      try {
        row = await db
          .insertInto("channels")
          .values({
            id: newId("ch"),
            team_id: ctx.teamId,
            name,
            provider,
            config: JSON.stringify(encryptConfig(encryptionKey, config)),
            event_types: events,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(name);
        throw err;
      }
      await audit.record(ctx, {
        resource_type: "channel",
        resource_id: row.id,
        action: "create",
        metadata: { name, provider },
      });
      return view(row, secret);
    },

    async list(teamId: string): Promise<ChannelView[]> {
      const rows = await db
        .selectFrom("channels")
        .selectAll()
        .where("team_id", "=", teamId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      return rows.map((r) => view(r));
    },

    get: async (teamId: string, id: string): Promise<ChannelView> => view(await rowOfTeam(teamId, id)),

    /** Renames and/or re-subscribes a channel; omitted fields keep their value. */
    async update(ctx: AuthContext, id: string, patch: { name?: string; events?: string[] }): Promise<ChannelView> {
      const current = await rowOfTeam(ctx.teamId, id);
      const name = patch.name === undefined ? current.name : cleanChannelName(patch.name);
      const events = patch.events === undefined ? current.event_types : checkEvents(patch.events);
      let row: Selectable<ChannelsTable> | undefined;
      try {
        row = await db
          .updateTable("channels")
          .set({ name, event_types: events, updated_at: new Date() })
          .where("id", "=", id)
          .where("team_id", "=", ctx.teamId)
          .returningAll()
          .executeTakeFirst();
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(name);
        throw err;
      }
      if (!row) throw errors.notFound(`channel ${id}`);
      await audit.record(ctx, { resource_type: "channel", resource_id: id, action: "update", metadata: { name } });
      return view(row);
    },

    /** Replaces the provider secrets (the whole config), checked against the channel's provider. */
    async rotateConfig(ctx: AuthContext, id: string, raw: Record<string, string>): Promise<ChannelView> {
      const current = await rowOfTeam(ctx.teamId, id);
      const provider = checkProvider(current.provider);
      const config = checkConfig(provider, raw);
      const secret = withWebhookSecret(provider, config);
      const row = await db
        .updateTable("channels")
        .set({ config: JSON.stringify(encryptConfig(encryptionKey, config)), updated_at: new Date() })
        .where("id", "=", id)
        .where("team_id", "=", ctx.teamId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw errors.notFound(`channel ${id}`);
      await audit.record(ctx, { resource_type: "channel", resource_id: id, action: "rotate_config" });
      return view(row, secret);
    },

    async remove(ctx: AuthContext, id: string): Promise<void> {
      const gone = await db
        .deleteFrom("channels")
        .where("id", "=", id)
        .where("team_id", "=", ctx.teamId)
        .returning("name")
        .executeTakeFirst();
      if (!gone) throw errors.notFound(`channel ${id}`);
      await audit.record(ctx, {
        resource_type: "channel",
        resource_id: id,
        action: "delete",
        status: "warning",
        metadata: { name: gone.name },
      });
    },

    /**
     * The team's channels subscribed to `eventType`, configs decrypted. A config that no longer decrypts (the key
     * changed) is reported through `onUnreadable` and skipped, so one bad row never stops the others.
     */
    async subscribers(
      teamId: string,
      eventType: string,
      onUnreadable: (channelId: string, err: DecryptError) => void,
    ): Promise<Subscriber[]> {
      const rows = await db
        .selectFrom("channels")
        .select(["id", "provider", "config"])
        .where("team_id", "=", teamId)
        .where(sql<boolean>`${eventType} = any(event_types)`)
        .orderBy("id")
        .execute();
      const out: Subscriber[] = [];
      for (const r of rows) {
        if (!(r.provider in PROVIDERS)) continue;
        try {
          out.push({ id: r.id, provider: r.provider as ProviderName, config: decryptConfig(encryptionKey, r.config) });
        } catch (err) {
          if (!(err instanceof DecryptError)) throw err;
          onUnreadable(r.id, err);
        }
      }
      return out;
    },

    /** Sends a `channel.test` event with an unsaved config; a refused delivery is a 502 `delivery_failed`. */
    async test(ctx: AuthContext, input: { provider: string; config: Record<string, string> }): Promise<void> {
      const provider = checkProvider(input.provider);
      const config = checkConfig(provider, input.config);
      withWebhookSecret(provider, config);
      const event: ChannelEvent = {
        event: "channel.test",
        timestamp: rfc3339Seconds(new Date()),
        team_id: ctx.teamId,
        actor: { type: "user", id: ctx.userId, name: ctx.name },
        resource: { id: "test", type: "channel" },
      };
      try {
        await PROVIDERS[provider].deliver(config, event, deps.delivery);
      } catch (err) {
        if (err instanceof DeliveryError) throw errors.deliveryFailed(err.message);
        throw err;
      }
    },
  };
}

/** The channel service's public shape. */
export type ChannelService = ReturnType<typeof createChannelService>;
