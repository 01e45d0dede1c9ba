/**
 * `wrenn shell <id>`: the user's terminal, in raw mode, wired to a PTY in the capsule; window resizes follow
 * (SIGWINCH). Exits with the shell's exit code and always restores the terminal.
 */
import type { Command } from "commander";
import { Capsule } from "wrenn";
import type { CliContext } from "../context.ts";
import { localExitCode } from "./parse.ts";

/** Registers `shell`. */
export function registerShellCommand(program: Command, ctx: CliContext): void {
  program
    .command("shell <id>")
    .description("open an interactive terminal in a capsule (exit the shell or press Ctrl-D to leave)")
    .option("--cmd <program>", "program to run", "/bin/bash")
    .option("--attach <tag>", "reattach to a terminal that is still running")
    .action(async (id: string, o: { cmd: string; attach?: string }) => {
      const g = ctx.globals();
      const capsule = await Capsule.connect(id, { apiKey: g.apiKey, baseUrl: g.baseUrl });
      const stdin = process.stdin;
      const stdout = process.stdout;
      const onData = (d: Uint8Array) => stdout.write(d);
      const session = o.attach
        ? await capsule.ptyConnect(o.attach, { onData })
        : await capsule.pty({
            cmd: o.cmd,
            cols: stdout.columns || 80,
            rows: stdout.rows || 24,
            envs: { TERM: process.env.TERM || "xterm-256color" },
            onData,
          });
      const wasRaw = stdin.isTTY ? stdin.isRaw : false;
      const onInput = (chunk: Buffer) => {
        try {
          session.write(chunk);
        } catch {
          // the session ended; the exit handling below restores the terminal
        }
      };
      const onResize = () => {
        if (stdout.columns && stdout.rows) session.resize(stdout.columns, stdout.rows);
      };
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.on("data", onInput);
      stdin.resume();
      stdout.on("resize", onResize);
      process.on("SIGWINCH", onResize);
      try {
        const code = await session.wait();
        ctx.setExitCode(localExitCode(code));
      } finally {
        stdin.off("data", onInput);
        stdout.off("resize", onResize);
        process.off("SIGWINCH", onResize);
        if (stdin.isTTY) stdin.setRawMode(wasRaw);
        stdin.pause();
        session.close();
      }
    });
}
