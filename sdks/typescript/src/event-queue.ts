/**
 * A single-consumer async queue: WebSocket handlers push, one `for await` loop pulls.
 * Ends after `end()`; `fail(err)` makes the pending and next pull throw.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #done = false;
  #error: unknown;
  #iterating = false;

  /** Adds an item; ignored once the queue has ended. */
  push(item: T): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value: item, done: false });
    } else this.#items.push(item);
  }

  /** Ends the queue after the items already in it. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#waiter && this.#items.length === 0) {
      const w = this.#waiter;
      this.#waiter = undefined;
      if (this.#error !== undefined) w.reject(this.#error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** Ends the queue with an error, thrown to the consumer after the items already in it. */
  fail(err: unknown): void {
    if (this.#done) return;
    this.#error = err;
    this.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error("this stream can be iterated only once");
    this.#iterating = true;
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#done) {
          return this.#error !== undefined
            ? Promise.reject(this.#error)
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.#waiter = { resolve, reject };
        });
      },
      return: () => {
        this.#items = [];
        this.#done = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
