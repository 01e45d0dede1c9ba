/** `wrenn files put|get|ls|rm|mkdir`: file transfer (streamed, with progress bars) and file management. */
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { basename, posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import type { FileEntry, Files } from "wrenn";
import type { CliContext } from "../context.ts";
import { printJson, printTable } from "../output.ts";
import { startByteBar } from "../progress.ts";
import { positiveInt } from "./parse.ts";

/** Registers the files commands. */
export function registerFilesCommands(program: Command, ctx: CliContext): void {
  const files = program.command("files").description("move files in and out of a capsule");
  const fs = (id: string) => ctx.client().files(id);

  files
    .command("put <id> <local> <remote>")
    .description("upload a local file (streamed; `-` reads stdin)")
    .action(async (id: string, local: string, remote: string) => {
      const size = local === "-" ? undefined : statSync(local).size;
      const source = local === "-" ? process.stdin : createReadStream(local);
      const bar = startByteBar(`put ${basename(local)}`, size, !ctx.json());
      let sent = 0;
      try {
        await fs(id).uploadStream(remote, source, {
          onProgress: (n) => {
            sent = n;
            bar.update(n);
          },
        });
      } finally {
        bar.stop();
      }
      if (ctx.json()) printJson(ctx.io, { path: remote, bytes: sent });
      else ctx.io.out(`uploaded ${sent} bytes to ${remote}\n`);
    });

  files
    .command("get <id> <remote> [local]")
    .description("download a file (streamed; local `-` writes to stdout; default: its name here)")
    .action(async (id: string, remote: string, local?: string) => {
      const target = local ?? posix.basename(remote);
      const api = fs(id);
      const size = await sizeOf(api, remote);
      const toStdout = target === "-";
      const bar = startByteBar(`get ${posix.basename(remote)}`, size, !ctx.json() && !toStdout);
      let moved = 0;
      try {
        const stream = await api.downloadStream(remote, {
          onProgress: (n) => {
            moved = n;
            bar.update(n);
          },
        });
        await pipeline(
          Readable.fromWeb(stream as import("node:stream/web").ReadableStream),
          toStdout ? process.stdout : createWriteStream(target),
        );
      } finally {
        bar.stop();
      }
      if (toStdout) return;
      if (ctx.json()) printJson(ctx.io, { path: remote, local: target, bytes: moved });
      else ctx.io.out(`downloaded ${moved} bytes to ${target}\n`);
    });

  files
    .command("ls <id> [path]")
    .description("list a directory (default /)")
    .option("-d, --depth <n>", "levels to descend", positiveInt, 1)
    .action(async (id: string, path: string | undefined, o: { depth: number }) => {
      const entries = await fs(id).list(path ?? "/", { depth: o.depth });
      if (ctx.json()) printJson(ctx.io, entries);
      else printTable(ctx.io, ["TYPE", "SIZE", "MODIFIED", "PATH"], entries.map(entryRow));
    });

  files
    .command("rm <id> <path>")
    .description("remove a file or directory")
    .action(async (id: string, path: string) => {
      await fs(id).remove(path);
      if (ctx.json()) printJson(ctx.io, { path, removed: true });
      else ctx.io.out(`removed ${path}\n`);
    });

  files
    .command("mkdir <id> <path>")
    .description("create a directory (and its parents)")
    .action(async (id: string, path: string) => {
      const entry = await fs(id).makeDir(path);
      if (ctx.json()) printJson(ctx.io, entry ?? { path });
      else ctx.io.out(`created ${path}\n`);
    });
}

function entryRow(e: FileEntry) {
  return [e.type, e.size, e.modifiedTime?.toISOString(), e.path || e.name];
}

async function sizeOf(api: Files, path: string): Promise<number | undefined> {
  try {
    const entries = await api.list(posix.dirname(path));
    return entries.find((e) => e.path === path || e.name === posix.basename(path))?.size;
  } catch {
    return undefined;
  }
}
