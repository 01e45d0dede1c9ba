import { type ChildProcess, spawn } from "node:child_process";

/** A separately started envd (source via tsx, or a built executable), with its port read from its log. */
export class EnvdProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts `file args…` and waits (up to `timeoutMs`) for the "envd listening" log line. */
  static start(file: string, args: string[], timeoutMs = 30_000): Promise<EnvdProcess> {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    return new Promise((resolve, reject) => {
      let log = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`envd did not start in ${timeoutMs} ms:\n${log}`));
      }, timeoutMs);
      const onData = (d: Buffer) => {
        log += d.toString();
        const m = /"port":(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          child.stdout?.off("data", onData);
          child.stdout?.resume();
          resolve(new EnvdProcess(child, Number(m[1])));
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (d: Buffer) => {
        log += d.toString();
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`envd exited with ${code} before listening:\n${log}`));
      });
    });
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); resolves with the exit code. */
  stop(timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.child.kill("SIGTERM");
    });
  }
}
