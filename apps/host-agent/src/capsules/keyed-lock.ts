/**
 * One lifecycle operation at a time per key (capsule id, team template): pause, resume, snapshot and destroy of
 * one capsule queue behind each other instead of interleaving their file moves and VM kills.
 */

/** A FIFO mutex per key. Entries disappear when their queue drains. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` is done; resolves or rejects with `fn`'s outcome. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** True while someone holds or waits for `key`. */
  isHeld(key: string): boolean {
    return this.#tails.has(key);
  }
}
