/**
 * A small self-refilling pool of restored, warmed clones for one template key. A clone's first answer after restore
 * costs ~250–400 ms under TCG (the emulator re-translates guest code), so keeping a few ready makes create fast;
 * the capsule manager gives a taken clone its identity before handing it out.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import type { Logger } from "../log.ts";
import type { ReadyTemplate } from "../templates/template-store.ts";
import { type Clone, discardClone } from "./clone-factory.ts";

/** A pooled clone and its folder. */
export interface PooledClone {
  readonly id: string;
  readonly dir: string;
  readonly clone: Clone;
}

/** How the pool makes and records clones. */
export interface ClonePoolDeps {
  readonly size: number;
  /** Restores a warmed clone into sandboxes/<id>. */
  restore(template: ReadyTemplate, id: string): Promise<Clone>;
  /** Persists the clone so a restarted agent can clean it up. */
  record(id: string, clone: Clone): Promise<void>;
  dirOf(id: string): string;
  readonly log: Logger;
}

/** Pool of one template key. `close()` kills every pooled clone. */
export class ClonePool {
  readonly #deps: ClonePoolDeps;
  readonly #template: ReadyTemplate;
  readonly #ready: PooledClone[] = [];
  #filling: Promise<void> | undefined;
  #closed = false;
  #failures = 0;
  /** Clones made since start, and total ms spent making them (refill rate). */
  made = 0;
  makeMs = 0;

  constructor(template: ReadyTemplate, deps: ClonePoolDeps) {
    this.#template = template;
    this.#deps = deps;
  }

  /** Number of clones ready now. */
  get readyCount(): number {
    return this.#ready.length;
  }

  /**
   * Takes a live clone if one is ready (dead ones are discarded). The caller calls `refill()` once its hand-out is
   * done: a restore started at once would compete for the CPU with the hand-out it is meant to speed up.
   */
  take(): PooledClone | undefined {
    let entry = this.#ready.shift();
    while (entry && !entry.clone.vm.isAlive()) {
      void discardClone(entry.clone, entry.dir);
      entry = this.#ready.shift();
    }
    return entry;
  }

  /** Starts filling up to the target size in the background (one restore at a time). */
  refill(): void {
    if (this.#closed || this.#filling || this.#deps.size === 0) return;
    this.#filling = this.#fill().finally(() => {
      this.#filling = undefined;
    });
  }

  /** Resolves when the current refill (if any) is done; for tests and benchmarks. */
  async idle(): Promise<void> {
    await this.#filling;
  }

  async #fill(): Promise<void> {
    // Bounded: at most `size` clones per round and a capped number of consecutive failures.
    while (!this.#closed && this.#ready.length < this.#deps.size && this.#failures < 3) {
      const id = `pool-${randomBytes(6).toString("hex")}`;
      const started = Date.now();
      try {
        const clone = await this.#deps.restore(this.#template, id);
        await this.#deps.record(id, clone);
        this.made++;
        this.makeMs += Date.now() - started;
        this.#failures = 0;
        const entry = { id, dir: this.#deps.dirOf(id), clone };
        if (this.#closed) await discardClone(clone, entry.dir);
        else this.#ready.push(entry);
      } catch (err) {
        this.#failures++;
        await rm(this.#deps.dirOf(id), { recursive: true, force: true });
        this.#deps.log.warn({ err: (err as Error).message, template: this.#template.meta.key }, "pool refill failed");
      }
    }
    if (this.#failures >= 3) {
      // Try again later rather than spinning on a broken template.
      setTimeout(() => {
        this.#failures = 0;
        this.refill();
      }, 30_000).unref();
    }
  }

  /** Kills all pooled clones and stops refilling. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#filling;
    const entries = this.#ready.splice(0);
    await Promise.all(entries.map((e) => discardClone(e.clone, e.dir)));
  }
}
