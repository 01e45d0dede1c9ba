import { type Kysely, type Selectable, sql } from "kysely";
import type { Logger } from "pino";
import type { AuditLogsTable, Database } from "../db/schema.ts";
import type { ChannelService, Subscriber } from "./channel-service.ts";
import { type ChannelEvent, eventFromAuditRow } from "./events.ts";
import { type DeliveryContext, PROVIDERS } from "./providers/index.ts";

/** How often the dispatcher looks for new audit rows, in ms. */
export const DISPATCH_INTERVAL_MS = 2_000;

/** What the dispatcher is built from. */
export interface ChannelDispatcherDeps {
  db: Kysely<Database>;
  log: Logger;
  /** Finds the subscribed channels of an event and decrypts their configs. */
  channels: Pick<ChannelService, "subscribers">;
  /** Telegram base URL and per-request timeout (10 s in production). */
  delivery: Omit<DeliveryContext, "signal">;
  /** Waits before the retries of a failed delivery, in ms (reference: 10 s then 30 s). */
  retryDelaysMs?: readonly number[];
  /**
   * Rows younger than this (ms, by the database clock) wait for the next run. An audit insert commits a moment
   * after `now()` stamped it, so without the margin a row could commit behind the cursor and never be sent.
   * Default 1000.
   */
  settleMs?: number;
  /** Audit rows read per query (default 200). */
  batchSize?: number;
}

/** The audit columns an event is made from (status and metadata are not part of events). */
type AuditRow = Omit<Selectable<AuditLogsTable>, "status" | "metadata">;

/**
 * Delivers channel notifications from the audit log, which is the outbox: each run reads the rows after a
 * persisted cursor, turns the ones that are events into payloads, sends each to the team's subscribed channels,
 * and moves the cursor past them whatever the outcome (the reference acknowledges every message too). A failed
 * delivery is retried in the background after 10 s and 30 s. Run it under a `LockedInterval` so one control
 * plane sends; the cursor is in the database, so another one carries on where it stopped.
 */
export function createChannelDispatcher(deps: ChannelDispatcherDeps) {
  const { db, log } = deps;
  const retryDelaysMs = deps.retryDelaysMs ?? [10_000, 30_000];
  const settleMs = deps.settleMs ?? 1_000;
  const batchSize = deps.batchSize ?? 200;
  const retries = new Map<NodeJS.Timeout, () => void>();
  const inFlight = new Set<Promise<void>>();
  const stopping = new AbortController();

  /** The cursor, started at "now" the first time so history from before channels existed is not replayed. */
  async function ensureCursor(): Promise<void> {
    await sql`insert into channel_dispatch_cursor (id, after_created_at, after_id)
              values (1, now(), '') on conflict (id) do nothing`.execute(db);
  }

  async function nextBatch(): Promise<AuditRow[]> {
    // The comparison stays in SQL: timestamptz has microseconds, a JS Date only milliseconds.
    const r = await sql<AuditRow>`
      select a.id, a.team_id, a.actor_type, a.actor_id, a.actor_name, a.resource_type, a.resource_id, a.action,
             a.scope, a.created_at
      from audit_logs a, channel_dispatch_cursor c
      where c.id = 1
        and (a.created_at, a.id) > (c.after_created_at, c.after_id)
        and a.created_at <= now() - ${settleMs}::integer * interval '1 millisecond'
      order by a.created_at, a.id
      limit ${batchSize}`.execute(db);
    return r.rows;
  }

  async function advanceTo(row: AuditRow): Promise<void> {
    await sql`update channel_dispatch_cursor
              set after_created_at = (select created_at from audit_logs where id = ${row.id}), after_id = ${row.id}
              where id = 1`.execute(db);
  }

  /** Sends to one channel; on failure schedules the next attempt, if any is left. */
  async function attempt(channel: Subscriber, event: ChannelEvent, attemptNo: number): Promise<void> {
    const clog = log.child({ channelId: channel.id, event: event.event, attempt: attemptNo + 1 });
    try {
      await PROVIDERS[channel.provider].deliver(channel.config, event, { ...deps.delivery, signal: stopping.signal });
      clog.debug("channel notified");
      return;
    } catch (err) {
      const delay = retryDelaysMs[attemptNo];
      if (delay === undefined || stopping.signal.aborted) {
        clog.warn({ reason: (err as Error).message }, "channel notification failed; giving up");
        return;
      }
      clog.info({ reason: (err as Error).message, retryInMs: delay }, "channel notification failed; will retry");
      const timer = setTimeout(() => {
        retries.delete(timer);
        track(attempt(channel, event, attemptNo + 1));
      }, delay);
      timer.unref();
      retries.set(timer, () => clearTimeout(timer));
    }
  }

  function track(p: Promise<void>): Promise<void> {
    inFlight.add(p);
    return p.finally(() => inFlight.delete(p));
  }

  const targetsOf = (event: ChannelEvent) =>
    deps.channels.subscribers(event.team_id, event.event, (channelId, err) =>
      log.error({ channelId, reason: err.message }, "channel config cannot be decrypted; channel skipped"),
    );

  return {
    /** One pass: dispatches every settled row after the cursor; first attempts finish before it returns. */
    async run(signal?: AbortSignal): Promise<void> {
      await ensureCursor();
      for (;;) {
        const rows = await nextBatch();
        if (rows.length === 0) return;
        const sends: Promise<void>[] = [];
        for (const row of rows) {
          const event = eventFromAuditRow(row);
          if (!event) continue;
          for (const t of await targetsOf(event)) sends.push(track(attempt(t, event, 0)));
        }
        // Each send has its own deadline (10 s), and they run side by side, so a batch takes at most about that.
        await Promise.all(sends);
        await advanceTo(rows[rows.length - 1] as AuditRow);
        if (rows.length < batchSize || signal?.aborted) return;
      }
    },

    /** Resolves once no delivery or retry is pending (tests; a graceful stop). */
    async idle(): Promise<void> {
      while (inFlight.size > 0 || retries.size > 0) {
        await Promise.race([...inFlight, new Promise((r) => setTimeout(r, 20))]);
      }
    },

    /** Cancels pending retries and aborts sends in progress. */
    stop(): void {
      stopping.abort();
      for (const cancel of retries.values()) cancel();
      retries.clear();
    },
  };
}

/** The dispatcher's public shape. */
export type ChannelDispatcher = ReturnType<typeof createChannelDispatcher>;
