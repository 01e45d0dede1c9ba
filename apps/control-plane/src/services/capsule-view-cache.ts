import type { CapsuleView } from "./capsule-store.ts";

/** Options of the capsule read cache. */
export interface CapsuleViewCacheOptions {
  /** How long an answer may be served from memory, in ms; 0 disables the cache. */
  ttlMs: number;
  /** Entries kept at most; the cache is emptied when it would grow past this. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * A short-lived memory of capsule reads, keyed by team and capsule: `GET /v1/capsules/{id}` answers, and the
 * capsule + host rows that route a call to its agent. Any write to the tables they come from through this process
 * empties it at once (see `invalidate`, driven by db/write-watch.ts), so this replica never serves a state older
 * than its own last change; writes by other replicas show within `ttlMs`.
 */
export class CapsuleViewCache<T = CapsuleView> {
  private readonly entries = new Map<string, { view: T; at: number; generation: number }>();
  private generation = 0;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly opts: CapsuleViewCacheOptions) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Drops everything cached (a capsule row changed). */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** The cached answer, or `load()`'s (cached unless a write happened while it ran). Errors are not cached. */
  async get(teamId: string, id: string, load: () => Promise<T>): Promise<T> {
    if (this.opts.ttlMs <= 0) return load();
    const key = `${teamId}\u0000${id}`;
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && hit.generation === this.generation && now - hit.at < this.opts.ttlMs) return hit.view;
    const generation = this.generation;
    const view = await load();
    if (generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, { view, at: now, generation });
    }
    return view;
  }
}
