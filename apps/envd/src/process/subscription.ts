/** One event leaving a process: a chunk of output, the end, or a keepalive. */
export type OutputEvent =
  | { kind: "stdout" | "stderr" | "pty"; data: Buffer }
  | { kind: "end"; end: EndInfo }
  | { kind: "keepalive" };

/** How a process ended, in the shape of the wire's EndEvent. */
export interface EndInfo {
  /** Exit code; -1 when killed by a signal (as Go's ProcessState.ExitCode). */
  exitCode: number;
  /** True when the process exited by itself (not by a signal). */
  exited: boolean;
  /** Go-style status: "exit status 3", "signal: killed". */
  status: string;
  error?: string;
}

/** Largest merged data event handed to a client, in bytes. */
const MERGE_BYTES = 1024 * 1024;

/** Callbacks a subscription uses to tell its fanout about its fill level. */
export interface SubscriptionOwner {
  onDrained(sub: Subscription): void;
  onClosed(sub: Subscription): void;
}

/** Where a subscription hands its events: `event` answers false when it cannot take more until `resume`. */
export interface SubscriptionConsumer {
  event(event: OutputEvent): boolean;
  /** Called once when the subscription is over: after the end event, on close, or with the failure. */
  closed(failure: Error | undefined): void;
}

/**
 * A bounded queue of output events for one client. Events go straight to the client's consumer while it keeps up,
 * and queue while it does not; the queue only reports its size, the owning fanout decides what to do when it is
 * full. Consumed by callback (`consume`, what envd's streams use: no promise per event) or as an async iterable.
 */
export class Subscription implements AsyncIterable<OutputEvent> {
  private readonly queue: OutputEvent[] = [];
  private queuedBytes = 0;
  private consumer: SubscriptionConsumer | undefined;
  private isBlocked = false;
  private isFlushing = false;
  private isDone = false;
  private failure: Error | undefined;
  private isFullFlag = false;

  constructor(
    private readonly owner: SubscriptionOwner,
    /** Bytes queued at which this subscription counts as full. */
    private readonly maxQueuedBytes: number,
  ) {}

  /** True while this subscription holds at least `maxQueuedBytes`. */
  get isFull(): boolean {
    return this.isFullFlag;
  }

  /** True once the subscription ended, failed or was closed. */
  get isClosed(): boolean {
    return this.isDone;
  }

  /** Queues an event; returns true if the queue is now full. Events after close are dropped. */
  push(event: OutputEvent): boolean {
    if (this.isDone) return false;
    this.queue.push(event);
    if (event.kind !== "end" && event.kind !== "keepalive") this.queuedBytes += event.data.length;
    if (this.queuedBytes >= this.maxQueuedBytes) this.isFullFlag = true;
    this.flush();
    return this.isFullFlag;
  }

  /** Hands every event, queued and future, to `consumer` (one consumer per subscription). */
  consume(consumer: SubscriptionConsumer): void {
    this.consumer = consumer;
    if (this.isDone) consumer.closed(this.failure);
    else this.flush();
  }

  /** The consumer can take events again after it answered false. */
  resume(): void {
    this.isBlocked = false;
    this.flush();
  }

  /** Ends the subscription with an error (after nothing else: the queue is dropped). */
  fail(err: Error): void {
    if (this.isDone) return;
    this.failure = err;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.close();
  }

  /** Stops the subscription; queued events are discarded. */
  close(): void {
    if (this.isDone) return;
    this.isDone = true;
    this.owner.onClosed(this);
    this.consumer?.closed(this.failure);
  }

  private flush(): void {
    const consumer = this.consumer;
    // A consumer may push or resume from inside `event`; the loop already running delivers those.
    if (!consumer || this.isFlushing) return;
    this.isFlushing = true;
    try {
      while (!this.isBlocked && !this.isDone) {
        const event = this.take();
        if (!event) break;
        if (!consumer.event(event)) this.isBlocked = true;
        if (event.kind === "end") this.close();
      }
    } finally {
      this.isFlushing = false;
    }
  }

  private take(): OutputEvent | undefined {
    let event = this.queue.shift();
    if (event && (event.kind === "stdout" || event.kind === "stderr" || event.kind === "pty")) {
      // A client that fell behind gets consecutive chunks of one stream merged (up to MERGE_BYTES): fewer,
      // larger messages cost less per byte on both ends, and per-stream order is unchanged.
      const kind = event.kind;
      let next = this.queue[0];
      if (next && next.kind === kind && event.data.length < MERGE_BYTES) {
        const parts = [event.data];
        let size = event.data.length;
        while (next && next.kind === kind && size + next.data.length <= MERGE_BYTES) {
          this.queue.shift();
          parts.push(next.data);
          size += next.data.length;
          next = this.queue[0];
        }
        event = { kind, data: parts.length === 1 ? event.data : Buffer.concat(parts, size) };
      }
      this.queuedBytes -= event.data.length;
      // Hysteresis: resume the source only once half the queue drained, so it does not flap per chunk.
      if (this.isFullFlag && this.queuedBytes <= this.maxQueuedBytes / 2) {
        this.isFullFlag = false;
        this.owner.onDrained(this);
      }
    }
    return event;
  }

  /** The events as an async iterable: one at a time, each taken only when the iteration asks for the next. */
  async *[Symbol.asyncIterator](): AsyncIterator<OutputEvent> {
    let ready: OutputEvent | undefined;
    let isOver = false;
    let wake: (() => void) | undefined;
    const wakeUp = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    this.consume({
      event: (event) => {
        ready = event;
        wakeUp();
        return false;
      },
      closed: () => {
        isOver = true;
        wakeUp();
      },
    });
    try {
      for (;;) {
        if (ready) {
          const event = ready;
          ready = undefined;
          yield event;
          if (event.kind === "end") return;
          this.resume();
          continue;
        }
        if (this.failure) throw this.failure;
        if (isOver) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      this.close();
    }
  }
}
