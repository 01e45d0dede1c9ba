/**
 * The `wrenn` command tree. `runCli(argv)` parses, runs one command and returns the exit code.
 */
import { Command, CommanderError } from "commander";
import { registerCapsuleCommands } from "./commands/capsule.ts";
import { registerExecCommand } from "./commands/exec.ts";
import { registerFilesCommands } from "./commands/files.ts";
import { registerHostCommands } from "./commands/host.ts";
import { registerShellCommand } from "./commands/shell.ts";
import { registerSnapshotCommands } from "./commands/snapshot.ts";
import { registerUpCommands } from "./commands/up.ts";
import { createContext } from "./context.ts";
import { type Io, processIo, reportError } from "./output.ts";

/** Builds the program; `onExitCode` receives an exit code a command sets. */
export function buildProgram(io: Io, onExitCode: (code: number) => void): Command {
  const program = new Command("wrenn")
    .description("Wrenn: run code in microVM capsules")
    .version("0.1.0")
    .option("--json", "print machine-readable JSON")
    .option("--api-key <key>", "API key (default: $WRENN_API_KEY, then ~/.config/wrenn/config.json)")
    .option("--base-url <url>", "control plane URL (default: $WRENN_BASE_URL, then the config file)")
    .showHelpAfterError("(run `wrenn --help` for the commands)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  const ctx = createContext(program, io, onExitCode);
  registerUpCommands(program, ctx);
  registerCapsuleCommands(program, ctx);
  registerExecCommand(program, ctx);
  registerShellCommand(program, ctx);
  registerFilesCommands(program, ctx);
  registerSnapshotCommands(program, ctx);
  registerHostCommands(program, ctx);
  return program;
}

/** Runs the CLI with `argv` (as in `process.argv`) and returns the exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    return reportError(io, err, argv.includes("--json"));
  }
}
