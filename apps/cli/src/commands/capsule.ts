/** `wrenn capsule create|list|get|destroy|pause|resume|ping`. */
import type { Command } from "commander";
import type { CapsuleInfo } from "wrenn";
import type { CliContext } from "../context.ts";
import { printJson, printTable } from "../output.ts";
import { nonNegativeInt, positiveInt } from "./parse.ts";

const row = (c: CapsuleInfo) => [c.id, c.status, c.template, c.vcpus, c.memoryMb, c.createdAt?.toISOString()];
const HEADERS = ["ID", "STATUS", "TEMPLATE", "VCPUS", "MEMORY_MB", "CREATED"];

/** Registers the capsule commands. */
export function registerCapsuleCommands(program: Command, ctx: CliContext): void {
  const capsule = program.command("capsule").alias("capsules").description("create and manage capsules");
  const show = (c: CapsuleInfo) => (ctx.json() ? printJson(ctx.io, c) : printTable(ctx.io, HEADERS, [row(c)]));

  capsule
    .command("create")
    .description("create a capsule and print its id")
    .option("-t, --template <name>", "template", "minimal")
    .option("--vcpus <n>", "virtual CPUs", positiveInt)
    .option("--memory <mb>", "memory in MB", positiveInt)
    .option("--timeout <sec>", "inactivity timeout in seconds before it is paused (0 = never)", nonNegativeInt)
    .action(async (o: { template: string; vcpus?: number; memory?: number; timeout?: number }) => {
      const c = await ctx.client().capsules.create({
        template: o.template,
        vcpus: o.vcpus,
        memoryMb: o.memory,
        timeoutSec: o.timeout,
      });
      if (ctx.json()) printJson(ctx.io, c);
      else ctx.io.out(`${c.id}\n`);
    });

  capsule
    .command("list")
    .alias("ls")
    .description("list capsules that are not stopped")
    .action(async () => {
      const list = await ctx.client().capsules.list();
      if (ctx.json()) printJson(ctx.io, list);
      else if (list.length === 0) ctx.io.out("no capsules (create one with `wrenn capsule create`)\n");
      else printTable(ctx.io, HEADERS, list.map(row));
    });

  capsule
    .command("get <id>")
    .description("show a capsule")
    .action(async (id: string) => show(await ctx.client().capsules.get(id)));

  capsule
    .command("destroy <id>")
    .alias("rm")
    .description("destroy a capsule")
    .action(async (id: string) => {
      await ctx.client().capsules.destroy(id);
      if (ctx.json()) printJson(ctx.io, { id, status: "stopped" });
      else ctx.io.out(`destroyed ${id}\n`);
    });

  capsule
    .command("pause <id>")
    .description("pause a capsule to disk")
    .action(async (id: string) => show(await ctx.client().capsules.pause(id)));

  capsule
    .command("resume <id>")
    .description("resume a paused capsule")
    .action(async (id: string) => show(await ctx.client().capsules.resume(id)));

  capsule
    .command("ping <id>")
    .description("reset a capsule's inactivity timer")
    .action(async (id: string) => {
      await ctx.client().capsules.ping(id);
      if (ctx.json()) printJson(ctx.io, { id, ok: true });
      else ctx.io.out(`pinged ${id}\n`);
    });
}
