/** `wrenn exec <id> -- cmd args…`: streams output live and exits with the command's exit code. */
import type { Command } from "commander";
import { Capsule } from "wrenn";
import type { CliContext } from "../context.ts";
import { printJson } from "../output.ts";
import { commandFromWords, envPair, localExitCode, nonNegativeInt } from "./parse.ts";

/** Registers `exec`. */
export function registerExecCommand(program: Command, ctx: CliContext): void {
  program
    .command("exec <id> <command...>")
    .description("run a command in a capsule (one word is run by /bin/sh -c; use -- before the command)")
    .option("-e, --env <KEY=VALUE>", "environment variable (repeatable)", envPair)
    .option("-w, --cwd <dir>", "working directory")
    .option("--timeout <sec>", "stop the command after this many seconds (0 = never)", nonNegativeInt, 0)
    .option("-b, --background", "start it in the background and print its pid and tag")
    .action(
      async (
        id: string,
        words: string[],
        o: { env?: Record<string, string>; cwd?: string; timeout: number; background?: boolean },
      ) => {
        const { cmd, args } = commandFromWords(words);
        const g = ctx.globals();
        const capsule = await Capsule.connect(id, { apiKey: g.apiKey, baseUrl: g.baseUrl });
        if (o.background) {
          const h = await capsule.commands.run(cmd, { args, envs: o.env, cwd: o.cwd, background: true });
          if (ctx.json()) printJson(ctx.io, h);
          else ctx.io.out(`pid ${h.pid} tag ${h.tag}\n`);
          return;
        }
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once("SIGINT", onSigint);
        try {
          const json = ctx.json();
          const stream = await capsule.commands.stream(cmd, {
            args,
            envs: o.env,
            cwd: o.cwd,
            timeoutSec: o.timeout,
            signal: abort.signal,
            onStdout: json ? undefined : (d) => process.stdout.write(d),
            onStderr: json ? undefined : (d) => process.stderr.write(d),
          });
          const r = await stream.wait();
          if (json)
            printJson(ctx.io, { stdout: r.stdout, stderr: r.stderr, exit_code: r.exitCode, duration_ms: r.durationMs });
          ctx.setExitCode(localExitCode(r.exitCode));
        } finally {
          process.off("SIGINT", onSigint);
        }
      },
    );
}
