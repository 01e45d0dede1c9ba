/**
 * Runs a job once at start and then on every wall-clock slot boundary (`floor(now / intervalMs)`), so every
 * replica aims at the same slot numbers and `claimSlot` can pick one winner per slot. Runs never overlap; a run
 * that throws is logged and the schedule goes on.
 */
import type { Logger } from "pino";

/** What a periodic job does with one slot. */
export interface PeriodicJobSpec {
  /** Name in logs. */
  name: string;
  /** Slot width in milliseconds (10 000 for the sampler, 3 600 000 for the rollup). */
  intervalMs: number;
  /** Works one slot; `slot` is `floor(nowMs / intervalMs)`. */
  run(slot: number, now: Date): Promise<void>;
}

/** Injectable time source (tests drive slots without waiting). */
export interface Clock {
  now(): number;
}

const systemClock: Clock = { now: () => Date.now() };

/** A timer-driven loop with one owner: `start()` once, `stop()` on shutdown. */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly spec: PeriodicJobSpec,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Runs the current slot now, then every slot boundary until `stop()`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.fire();
  }

  /** Works the current slot once (also used by tests); resolves when done, never rejects. */
  async runOnce(): Promise<void> {
    const nowMs = this.clock.now();
    const slot = Math.floor(nowMs / this.spec.intervalMs);
    const started = performance.now();
    try {
      await this.spec.run(slot, new Date(nowMs));
      this.log.debug({ job: this.spec.name, slot, durationMs: Math.round(performance.now() - started) }, "job ran");
    } catch (err) {
      this.log.warn({ job: this.spec.name, slot, err }, "job failed; retrying next slot");
    }
  }

  /** Stops the schedule and waits for a run in progress (bounded by `timeoutMs`, default 10 s). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) {
      let t: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        t = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([this.running, deadline]);
      clearTimeout(t);
    }
  }

  private fire(): void {
    if (this.stopped) return;
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    const { intervalMs } = this.spec;
    // Small offset past the boundary so a clock a few ms behind still lands in the new slot.
    const delay = intervalMs - (this.clock.now() % intervalMs) + 5;
    this.timer = setTimeout(() => this.fire(), delay);
  }
}
