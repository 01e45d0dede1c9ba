/** Every way an image build can fail; each comes with a hint that tells the operator what to do next. */
export type BuildErrorCode =
  | "invalid_args"
  | "not_root"
  | "missing_tool"
  | "command_failed"
  | "timeout"
  | "aborted"
  | "envd_missing"
  | "kernel_unavailable"
  | "bad_artifact";

/**
 * The one error type of the image builder. `hint` is printed under the message by `build.ts`
 * ("apt-get install -y debootstrap", "run as root", …) so a failed build always ends with a next step.
 */
export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    readonly code: BuildErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Keeps a BuildError as is, maps aborts to `aborted`, wraps anything else as `command_failed` with its cause. */
  static from(err: unknown): BuildError {
    if (err instanceof BuildError) return err;
    if (err instanceof Error && err.name === "AbortError")
      return new BuildError("aborted", "build aborted", undefined, { cause: err });
    const message = err instanceof Error ? err.message : String(err);
    return new BuildError("command_failed", message, undefined, { cause: err });
  }
}
