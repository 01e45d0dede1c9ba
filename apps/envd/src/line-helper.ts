import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { type HelperProcessOptions, startHelperProcess } from "./helper-process.ts";

/** Options of `startLineHelper`. */
export interface LineHelperOptions extends Omit<HelperProcessOptions, "onData"> {
  /** Each complete stdout line, without its newline. */
  onLine: (line: string) => void;
}

/**
 * Starts a long-lived helper process that answers on stdout one text line per message (wrenn-reseed --serve),
 * wired as `startHelperProcess` does, with its stdout cut into whole lines.
 */
export function startLineHelper(options: LineHelperOptions): ChildProcessWithoutNullStreams {
  const { onLine, ...helper } = options;
  const utf8 = new StringDecoder("utf8");
  let tail = "";
  return startHelperProcess({
    ...helper,
    onData: (chunk) => {
      const lines = (tail + utf8.write(chunk)).split("\n");
      tail = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    },
  });
}
