/**
 * `wrenn host create-token|list`: host administration. These routes need an admin login (a user JWT): from
 * `--token` / `$WRENN_TOKEN`, or, on the machine where `wrenn up` runs, by logging in with the admin account it
 * created.
 */
import type { Command } from "commander";
import { type HostInfo, login } from "wrenn";
import type { CliContext } from "../context.ts";
import { CliError, printJson, printTable } from "../output.ts";
import { defaultDataDir, readState, stackLayout } from "../up/stack-layout.ts";

async function adminToken(ctx: CliContext, explicit?: string): Promise<string> {
  const token = explicit ?? process.env.WRENN_TOKEN;
  if (token) return token;
  const state = readState(stackLayout(defaultDataDir()).state);
  if (!state) {
    throw new CliError(
      "host commands need an admin login: pass --token <jwt> (or set WRENN_TOKEN), or run them where `wrenn up` runs",
    );
  }
  const client = ctx.client();
  return (await login(state.email, state.password, { baseUrl: client.baseUrl })).token;
}

const row = (h: HostInfo) => [
  h.id,
  h.type,
  h.status,
  h.address,
  h.cpuCores,
  h.memoryMb,
  h.lastHeartbeatAt?.toISOString(),
];

/** Registers the host commands. */
export function registerHostCommands(program: Command, ctx: CliContext): void {
  const host = program.command("host").alias("hosts").description("hosts that run capsules (admin)");

  host
    .command("create-token")
    .description("create a host and print its one-hour registration token (or a new token for --host)")
    .option("--host <id>", "a pending host that needs a fresh token")
    .option("--type <type>", "regular or byoc", "regular")
    .option("--token <jwt>", "admin JWT (default $WRENN_TOKEN or the local admin)")
    .action(async (o: { host?: string; type: "regular" | "byoc"; token?: string }) => {
      const client = ctx.client({ token: await adminToken(ctx, o.token) });
      const r = o.host ? await client.hosts.createToken(o.host) : await client.hosts.create({ type: o.type });
      if (ctx.json()) printJson(ctx.io, { host: r.host, registration_token: r.registrationToken });
      else {
        ctx.io.out(`host ${r.host.id}\nregistration token (valid 1 hour): ${r.registrationToken}\n`);
        ctx.io.out(
          `start the agent with: AGENT_CP_URL=${client.baseUrl} wrenn-agent --register ${r.registrationToken} --address <ip:port>\n`,
        );
      }
    });

  host
    .command("list")
    .alias("ls")
    .description("list hosts")
    .option("--token <jwt>", "admin JWT (default $WRENN_TOKEN or the local admin)")
    .action(async (o: { token?: string }) => {
      const list = await ctx.client({ token: await adminToken(ctx, o.token) }).hosts.list();
      if (ctx.json()) printJson(ctx.io, list);
      else
        printTable(ctx.io, ["ID", "TYPE", "STATUS", "ADDRESS", "CPUS", "MEMORY_MB", "LAST_HEARTBEAT"], list.map(row));
    });
}
