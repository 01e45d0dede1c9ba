import { type FSWatcher, type Stats, watch } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { filesystem as pb } from "@wrenn/protocol";
import { EnvdError, errors } from "../errors.ts";

/** One filesystem event: name relative to the watched directory. */
export interface FsEvent {
  name: string;
  type: pb.EventType;
}

interface Known {
  ino: number;
  mode: number;
  mtimeMs: number;
  size: number;
}

/**
 * How long a vanished name waits for its other half of a rename before it counts as removed, in ms. Measured:
 * 50 ms was too short inside a VM under TCG, where the second inotify event can arrive later (a `mv` was
 * reported as REMOVE + CREATE in 2 of 4 runs). Pairing is by inode, so a longer wait cannot pair unrelated names.
 */
const RENAME_PAIR_MS = 250;
/** Upper bound on entries remembered from the initial scan (keeps huge trees cheap to watch). */
const SCAN_LIMIT = 20_000;

/**
 * Watches a directory and reports CREATE / WRITE / REMOVE / RENAME / CHMOD like the reference (fsnotify).
 * node's fs.watch only says "rename" or "change", so the watcher remembers each entry's inode and mode:
 * a name that vanished and a name that appeared with the same inode within 250 ms (in either order) form a
 * RENAME (old name) plus CREATE (new name); a "change" that altered only the mode is a CHMOD.
 */
export class DirWatcher {
  private readonly known = new Map<string, Known>();
  private readonly vanished = new Map<number, { name: string; timer: NodeJS.Timeout }>();
  /** Inodes that just appeared under a new name (inotify may report the new name before the old one). */
  private readonly appeared = new Map<number, NodeJS.Timeout>();
  private fsWatcher: FSWatcher | undefined;
  private chain: Promise<void> = Promise.resolve();
  private isClosed = false;

  private constructor(
    readonly root: string,
    private readonly recursive: boolean,
    private readonly onEvent: (ev: FsEvent) => void,
  ) {}

  /** Starts watching `root` (must be an existing directory). */
  static async open(
    root: string,
    recursive: boolean,
    onEvent: (ev: FsEvent) => void,
    onError: (err: EnvdError) => void,
  ): Promise<DirWatcher> {
    let st: Stats;
    try {
      st = await lstat(root);
    } catch (err) {
      throw EnvdError.from(err, root);
    }
    if (!st.isDirectory()) throw errors.notADirectory(root);
    const w = new DirWatcher(root, recursive, onEvent);
    try {
      w.fsWatcher = watch(root, { recursive, persistent: false }, (type, name) => {
        if (name) w.enqueue(type, name.toString());
      });
    } catch (err) {
      throw EnvdError.from(err, root);
    }
    w.fsWatcher.on("error", (err) => {
      w.close();
      onError(EnvdError.from(err, root));
    });
    await w.scan();
    return w;
  }

  private async scan(): Promise<void> {
    try {
      const entries = await readdir(this.root, { recursive: this.recursive });
      for (const name of entries.slice(0, SCAN_LIMIT)) {
        const st = await lstat(join(this.root, name)).catch(() => undefined);
        if (st) this.remember(name, st);
      }
    } catch {}
  }

  private isKnownInode(ino: number): boolean {
    for (const k of this.known.values()) if (k.ino === ino) return true;
    return false;
  }

  private remember(name: string, st: Stats): void {
    this.known.set(name, { ino: st.ino, mode: st.mode, mtimeMs: st.mtimeMs, size: st.size });
  }

  private enqueue(type: string, name: string): void {
    // One at a time, in arrival order: each step awaits an lstat.
    this.chain = this.chain.then(() => this.handle(type, name)).catch(() => {});
  }

  private emit(name: string, type: pb.EventType): void {
    if (!this.isClosed) this.onEvent({ name, type });
  }

  private async handle(type: string, name: string): Promise<void> {
    if (this.isClosed) return;
    const st = await lstat(join(this.root, name)).catch(() => undefined);
    const prev = this.known.get(name);
    if (!st) {
      if (type !== "rename") return;
      if (!prev) {
        this.emit(name, pb.EventType.REMOVE);
        return;
      }
      this.known.delete(name);
      const arrival = this.appeared.get(prev.ino);
      if (arrival) {
        clearTimeout(arrival);
        this.appeared.delete(prev.ino);
        this.emit(name, pb.EventType.RENAME);
        return;
      }
      const timer = setTimeout(() => {
        // Events that arrived meanwhile are handled first: one of them may be this rename's other half.
        this.chain = this.chain.then(() => {
          if (this.vanished.get(prev.ino)?.timer !== timer) return;
          this.vanished.delete(prev.ino);
          this.emit(name, pb.EventType.REMOVE);
        });
      }, RENAME_PAIR_MS);
      this.vanished.set(prev.ino, { name, timer });
      return;
    }
    if (type === "rename" && (!prev || prev.ino !== st.ino)) {
      const moved = this.vanished.get(st.ino);
      if (moved) {
        clearTimeout(moved.timer);
        this.vanished.delete(st.ino);
        this.emit(moved.name, pb.EventType.RENAME);
      } else if (this.isKnownInode(st.ino)) {
        // The new name came first and the old one is still listed: its removal, when it comes, is the rename's
        // first half. (A brand-new file is not remembered here, so creating and quickly deleting one is a REMOVE.)
        const ino = st.ino;
        clearTimeout(this.appeared.get(ino));
        const timer = setTimeout(() => this.appeared.delete(ino), RENAME_PAIR_MS);
        this.appeared.set(ino, timer);
      }
      this.remember(name, st);
      this.emit(name, pb.EventType.CREATE);
      return;
    }
    const isChmodOnly = prev && prev.mode !== st.mode && prev.mtimeMs === st.mtimeMs && prev.size === st.size;
    this.remember(name, st);
    if (st.isDirectory() && !isChmodOnly) return; // a directory's own "change" is its children's business
    this.emit(name, isChmodOnly ? pb.EventType.CHMOD : pb.EventType.WRITE);
  }

  /** Stops watching; pending removals are dropped. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.fsWatcher?.close();
    for (const { timer } of this.vanished.values()) clearTimeout(timer);
    for (const timer of this.appeared.values()) clearTimeout(timer);
    this.vanished.clear();
    this.appeared.clear();
  }
}
