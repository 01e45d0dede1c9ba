import { randomUUID } from "node:crypto";
import { errors } from "../errors.ts";
import { DirWatcher, type FsEvent } from "./dir-watcher.ts";

/** Events a polling watcher keeps between two GetWatcherEvents calls; older ones are dropped first. */
const MAX_PENDING_EVENTS = 10_000;

interface Entry {
  watcher: DirWatcher;
  events: FsEvent[];
  error: Error | undefined;
}

/** The polling watchers (CreateWatcher / GetWatcherEvents / RemoveWatcher). Owns each DirWatcher it opens. */
export class WatcherRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Opens a watcher and returns its id. */
  async create(path: string, recursive: boolean): Promise<string> {
    const id = randomUUID();
    const entry: Entry = { watcher: undefined as unknown as DirWatcher, events: [], error: undefined };
    entry.watcher = await DirWatcher.open(
      path,
      recursive,
      (ev) => {
        entry.events.push(ev);
        if (entry.events.length > MAX_PENDING_EVENTS) entry.events.shift();
      },
      (err) => {
        entry.error = err;
      },
    );
    this.entries.set(id, entry);
    return id;
  }

  /** Returns and clears the events since the last call; throws the watcher's error if it broke. */
  take(id: string): FsEvent[] {
    const entry = this.entries.get(id);
    if (!entry) throw errors.watcherNotFound(id);
    if (entry.error && entry.events.length === 0) throw entry.error;
    return entry.events.splice(0);
  }

  /** Closes and forgets a watcher. */
  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) throw errors.watcherNotFound(id);
    entry.watcher.close();
    this.entries.delete(id);
  }

  /** Closes every watcher (envd shutdown). */
  closeAll(): void {
    for (const entry of this.entries.values()) entry.watcher.close();
    this.entries.clear();
  }
}
