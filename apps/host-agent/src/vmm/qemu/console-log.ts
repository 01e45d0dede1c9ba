/**
 * The guest serial console: QEMU writes it to console.log in the VM's folder; the agent tails it into the VM's
 * logger while it watches a boot, dropping known noise, and quotes its tail in error messages.
 */
import { open } from "node:fs/promises";
import type { Logger } from "../../log.ts";

/** Lines that say nothing useful about a boot (kernel chatter the `quiet` flag still lets through). */
const NOISE = [/^\s*$/, /^\[\s*\d+\.\d+\]\s+(random|audit|systemd-journald)/, /^Probing EDD/];

/** True when a console line is worth logging. */
export function isInteresting(line: string): boolean {
  return !NOISE.some((re) => re.test(line));
}

/** The last `maxBytes` of a file as text ("" when it does not exist). */
export async function tailFile(path: string, maxBytes: number): Promise<string> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, "r");
    const { size } = await fh.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString("utf8");
  } catch {
    return "";
  } finally {
    await fh?.close();
  }
}

/** Follows a console file into a logger until `stop()`. Polls (the file is written by another process). */
export class ConsoleTail {
  #offset = 0;
  #partial = "";
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  readonly #path: string;
  readonly #log: Logger;

  constructor(path: string, log: Logger, intervalMs = 250) {
    this.#path = path;
    this.#log = log;
    this.#timer = setInterval(() => void this.#poll(), intervalMs);
    this.#timer.unref();
  }

  /** Flushes what is left and stops following. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#poll();
    if (this.#partial && isInteresting(this.#partial)) this.#log.debug({ line: this.#partial }, "guest console");
    this.#partial = "";
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(this.#path, "r");
      const { size } = await fh.stat();
      if (size <= this.#offset) return;
      const len = Math.min(size - this.#offset, 256 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, this.#offset);
      this.#offset += len;
      const lines = (this.#partial + buf.toString("utf8")).split(/\r?\n/);
      this.#partial = lines.pop() ?? "";
      for (const line of lines) if (isInteresting(line)) this.#log.debug({ line }, "guest console");
    } catch {
      // Not created yet.
    } finally {
      await fh?.close();
      this.#busy = false;
    }
  }
}
