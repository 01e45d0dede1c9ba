import { cp, lstat, readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { filesystem as pb } from "@wrenn/protocol";
import { asConnect, EnvdError, errors } from "../errors.ts";
import { resolveUserPath } from "../process/spawn-spec.ts";
import { type UserIdentity, type UserResolver, userFromAuthorization } from "../users.ts";
import { type EntryInfoInit, loadIdNames, statEntry, toEntryInfo } from "./entry-info.ts";
import { makeDirsAsUser, makeParentsAsUser } from "./ownership.ts";
import { streamWatch } from "./watch-stream.ts";
import type { WatcherRegistry } from "./watcher-registry.ts";

/** Most entries one ListDir returns (a guard against listing / with a huge depth). */
const LIST_LIMIT = 100_000;

/** Dependencies of the filesystem service. */
export interface FilesystemServiceDeps {
  users: UserResolver;
  watchers: WatcherRegistry;
}

/** The Connect `filesystem.Filesystem` service. Relative paths resolve against the user's home. */
export function createFilesystemService(deps: FilesystemServiceDeps): ServiceImpl<typeof pb.Filesystem> {
  const userOf = (ctx: HandlerContext) =>
    deps.users.resolve(userFromAuthorization(ctx.requestHeader.get("authorization")));
  const pathOf = async (raw: string, ctx: HandlerContext): Promise<{ path: string; user: UserIdentity }> => {
    if (!raw) throw errors.invalidArgument("path is required");
    const user = await userOf(ctx);
    return { path: resolveUserPath(raw, user), user };
  };

  return {
    stat: (req, ctx) =>
      asConnect(async () => {
        const { path } = await pathOf(req.path, ctx);
        return { entry: await statEntry(path) };
      }),

    makeDir: (req, ctx) =>
      asConnect(async () => {
        const { path, user } = await pathOf(req.path, ctx);
        const existing = await lstat(path).catch(() => undefined);
        if (existing?.isDirectory()) throw errors.alreadyExists(path);
        if (existing) throw new EnvdError("already_exists", `${path}: exists and is not a directory`);
        await makeDirsAsUser(path, user);
        return { entry: await statEntry(path) };
      }),

    move: (req, ctx) =>
      asConnect(async () => {
        const { path: source, user } = await pathOf(req.source, ctx);
        const { path: destination } = await pathOf(req.destination, ctx);
        await lstat(source).catch((err: unknown) => {
          throw EnvdError.from(err, source);
        });
        await makeParentsAsUser(destination, user);
        try {
          await rename(source, destination);
        } catch (err) {
          // rename(2) cannot cross filesystems: copy then delete, as mv does.
          if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw EnvdError.from(err, destination);
          await cp(source, destination, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
          await rm(source, { recursive: true });
        }
        return { entry: await statEntry(destination) };
      }),

    listDir: (req, ctx) =>
      asConnect(async () => {
        const { path } = await pathOf(req.path, ctx);
        const st = await lstat(path).catch((err: unknown) => {
          throw EnvdError.from(err, path);
        });
        if (!st.isDirectory()) throw errors.notADirectory(path);
        const names = await loadIdNames();
        const entries: EntryInfoInit[] = [];
        const walk = async (dir: string, level: number): Promise<void> => {
          const dirents = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
            throw EnvdError.from(err, dir);
          });
          for (const d of dirents) {
            if (entries.length >= LIST_LIMIT) return;
            const full = join(dir, d.name);
            const s = await lstat(full).catch(() => undefined);
            if (!s) continue; // vanished between readdir and lstat
            entries.push(await toEntryInfo(full, s, names));
            // Symlinked directories are not followed: no loops, no escaping the listed tree.
            if (s.isDirectory() && level < Math.max(1, req.depth)) await walk(full, level + 1);
          }
        };
        await walk(path, 1);
        return { entries };
      }),

    remove: (req, ctx) =>
      asConnect(async () => {
        const { path } = await pathOf(req.path, ctx);
        const st = await lstat(path).catch((err: unknown) => {
          throw EnvdError.from(err, path);
        });
        // unlink for non-directories: rm's retry logic would turn an EPERM into a misleading ENOTDIR.
        const removal = st.isDirectory() ? rm(path, { recursive: true }) : unlink(path);
        await removal.catch((err: unknown) => {
          throw EnvdError.from(err, path);
        });
        return {};
      }),

    async *watchDir(req, ctx) {
      const { path } = await asConnect(() => pathOf(req.path, ctx));
      yield* streamWatch(path, req.recursive, ctx.signal);
    },

    createWatcher: (req, ctx) =>
      asConnect(async () => {
        const { path } = await pathOf(req.path, ctx);
        return { watcherId: await deps.watchers.create(path, req.recursive) };
      }),

    getWatcherEvents: (req) => asConnect(async () => ({ events: deps.watchers.take(req.watcherId) })),

    removeWatcher: (req) =>
      asConnect(async () => {
        deps.watchers.remove(req.watcherId);
        return {};
      }),
  };
}
