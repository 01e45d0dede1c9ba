/**
 * A byte progress bar for transfers (cli-progress). Draws only on a TTY and never with `--json`, so scripts
 * and CI logs stay clean.
 */
import cliProgress from "cli-progress";

/** A bar you update with bytes done; `stop()` clears it. */
export interface ByteBar {
  update(bytes: number): void;
  stop(): void;
}

const mib = (n: number) => (n / 1048576).toFixed(1);

/** Starts a bar labelled `label` for `total` bytes (unknown total: a counter without percentage). */
export function startByteBar(label: string, total: number | undefined, enabled: boolean): ByteBar {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: total ? `${label} {bar} {percentage}% | {doneMib}/{totalMib} MiB` : `${label} {doneMib} MiB`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total || 1, 0, { doneMib: "0.0", totalMib: total ? mib(total) : "?" });
  return {
    update: (bytes) => bar.update(total ? Math.min(bytes, total) : 0, { doneMib: mib(bytes) }),
    stop: () => bar.stop(),
  };
}
