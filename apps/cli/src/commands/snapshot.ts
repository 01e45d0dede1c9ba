/** `wrenn snapshot create|list|delete`: templates made from capsules. */
import type { Command } from "commander";
import type { TemplateInfo } from "wrenn";
import type { CliContext } from "../context.ts";
import { printJson, printTable } from "../output.ts";

const row = (t: TemplateInfo) => [t.name, t.type, t.vcpus, t.memoryMb, t.sizeBytes, t.createdAt?.toISOString()];

/** Registers the snapshot commands. */
export function registerSnapshotCommands(program: Command, ctx: CliContext): void {
  const snapshot = program.command("snapshot").alias("snapshots").description("templates made from capsules");

  snapshot
    .command("create <capsule-id>")
    .description("turn a running or paused capsule into a template (the capsule is left paused)")
    .option("-n, --name <name>", "template name (default: generated)")
    .option("--overwrite", "replace a team template of the same name")
    .action(async (id: string, o: { name?: string; overwrite?: boolean }) => {
      const t = await ctx.client().snapshots.create(id, { name: o.name, overwrite: o.overwrite });
      if (ctx.json()) printJson(ctx.io, t);
      else ctx.io.out(`${t.name}\n`);
    });

  snapshot
    .command("list")
    .alias("ls")
    .description("list templates visible to the team")
    .option("--type <type>", "base or snapshot")
    .action(async (o: { type?: "base" | "snapshot" }) => {
      const list = await ctx.client().snapshots.list({ type: o.type });
      if (ctx.json()) printJson(ctx.io, list);
      else printTable(ctx.io, ["NAME", "TYPE", "VCPUS", "MEMORY_MB", "SIZE_BYTES", "CREATED"], list.map(row));
    });

  snapshot
    .command("delete <name>")
    .alias("rm")
    .description("delete a team template")
    .action(async (name: string) => {
      await ctx.client().snapshots.delete(name);
      if (ctx.json()) printJson(ctx.io, { name, deleted: true });
      else ctx.io.out(`deleted ${name}\n`);
    });
}
