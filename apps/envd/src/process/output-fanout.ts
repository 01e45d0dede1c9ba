import { EnvdError } from "../errors.ts";
import { type EndInfo, type OutputEvent, Subscription, type SubscriptionOwner } from "./subscription.ts";

/** Limits of a fanout. */
export interface FanoutOptions {
  /** Bytes queued per subscriber before it counts as full. Default 4 MiB. */
  maxQueuedBytes?: number;
  /** How long a subscriber may stay full before it is dropped, in ms. Default 15000. */
  stallLimitMs?: number;
  /** Called when output must stop being read (some subscriber is full). */
  pause: () => void;
  /** Called when output may be read again. */
  resume: () => void;
}

/**
 * Fans one process's output out to every attached client through bounded per-client queues.
 * While any client is full the source is paused (its pipe is not read, so the process blocks on write
 * and envd's memory stays bounded); a client that stays full past `stallLimitMs` is dropped with an
 * error so it cannot stall the others. With no client attached, output is read and discarded.
 */
export class OutputFanout implements SubscriptionOwner {
  private readonly subs = new Set<Subscription>();
  private readonly stallTimers = new Map<Subscription, NodeJS.Timeout>();
  private readonly maxQueuedBytes: number;
  private readonly stallLimitMs: number;
  private isSourcePaused = false;
  private endInfo: EndInfo | undefined;

  constructor(private readonly options: FanoutOptions) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.stallLimitMs = options.stallLimitMs ?? 15_000;
  }

  /** True while output must not be read (some client is full). */
  get isPaused(): boolean {
    return this.isSourcePaused;
  }

  /** Number of attached clients. */
  get size(): number {
    return this.subs.size;
  }

  /** Attaches a client; it receives events from now on. Closing the subscription detaches it. */
  subscribe(): Subscription {
    const sub = new Subscription(this, this.maxQueuedBytes);
    if (this.endInfo) {
      sub.push({ kind: "end", end: this.endInfo });
      return sub;
    }
    this.subs.add(sub);
    return sub;
  }

  /** Delivers a chunk of output to every client. */
  publish(kind: "stdout" | "stderr" | "pty", data: Buffer): void {
    this.broadcast({ kind, data });
  }

  /** Sends a keepalive to every client (never counts against the queue limit). */
  keepalive(): void {
    for (const sub of this.subs) sub.push({ kind: "keepalive" });
  }

  /** Delivers the end event; every client's iteration finishes after it. */
  end(info: EndInfo): void {
    if (this.endInfo) return;
    this.endInfo = info;
    for (const sub of this.subs) sub.push({ kind: "end", end: info });
    for (const timer of this.stallTimers.values()) clearTimeout(timer);
    this.stallTimers.clear();
    this.subs.clear();
  }

  private broadcast(event: OutputEvent): void {
    for (const sub of this.subs) {
      if (sub.push(event) && !this.stallTimers.has(sub)) {
        const timer = setTimeout(() => this.drop(sub), this.stallLimitMs);
        timer.unref();
        this.stallTimers.set(sub, timer);
      }
    }
    this.update();
  }

  private drop(sub: Subscription): void {
    sub.fail(new EnvdError("insufficient_storage", "client too slow: output queue stayed full, detached").toConnect());
  }

  onDrained(sub: Subscription): void {
    this.clearStall(sub);
    this.update();
  }

  onClosed(sub: Subscription): void {
    this.subs.delete(sub);
    this.clearStall(sub);
    this.update();
  }

  private clearStall(sub: Subscription): void {
    const timer = this.stallTimers.get(sub);
    if (timer) clearTimeout(timer);
    this.stallTimers.delete(sub);
  }

  private update(): void {
    let anyFull = false;
    for (const sub of this.subs) if (sub.isFull) anyFull = true;
    if (anyFull && !this.isSourcePaused) {
      this.isSourcePaused = true;
      this.options.pause();
    } else if (!anyFull && this.isSourcePaused) {
      this.isSourcePaused = false;
      this.options.resume();
    }
  }
}
