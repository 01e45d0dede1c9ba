/**
 * Step output of `wrenn up`: an ora spinner per step on a TTY (always `discardStdin: false`: the default hangs
 * in a real terminal), plain `==>` lines otherwise, nothing at all in `--json` mode.
 */
import ora from "ora";

/** Step printer. */
export interface Steps {
  /** Runs `fn` as a named step with a spinner; marks it done or failed. */
  run<T>(title: string, fn: () => Promise<T> | T): Promise<T>;
  /** A progress line. */
  log(line: string): void;
  /** Output the user should see (e.g. the first capsule's output), also in the middle of a step. */
  print(line: string): void;
}

/** Creates the step printer; `enabled` false prints nothing (JSON mode). */
export function createSteps(enabled: boolean): Steps {
  const tty = enabled && process.stderr.isTTY === true;
  let spinner: ReturnType<typeof ora> | undefined;
  return {
    async run(title, fn) {
      if (!enabled) return fn();
      if (!tty) {
        process.stderr.write(`==> ${title}\n`);
        return fn();
      }
      spinner = ora({ text: title, discardStdin: false, stream: process.stderr }).start();
      try {
        const value = await fn();
        spinner.succeed();
        return value;
      } catch (err) {
        spinner.fail();
        throw err;
      } finally {
        spinner = undefined;
      }
    },
    log(line) {
      if (!enabled) return;
      if (spinner) spinner.text = line;
      else process.stderr.write(`==> ${line}\n`);
    },
    print(line) {
      if (!enabled) return;
      spinner?.clear();
      process.stdout.write(`${line}\n`);
      spinner?.render();
    },
  };
}
