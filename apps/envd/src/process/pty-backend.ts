import { EnvdError, errors } from "../errors.ts";
import { type BackendSink, endInfoFrom, type ProcessBackend, type SpawnSpec } from "./backend.ts";
import { loadPty } from "./pty-loader.ts";
import { checkSpawnable } from "./spawn-spec.ts";

/** Terminal size of a PTY process. */
export interface PtySize {
  cols: number;
  rows: number;
}

/** Starts a child on a fresh PTY (forkpty: the child leads its own session and process group). */
export async function spawnPtyBackend(spec: SpawnSpec, size: PtySize, sink: BackendSink): Promise<ProcessBackend> {
  checkSpawnable(spec);
  const pty = loadPty();
  let term: ReturnType<typeof pty.spawn>;
  try {
    term = pty.spawn(spec.file, spec.args, {
      name: spec.env.TERM ?? "xterm-256color",
      cols: size.cols,
      rows: size.rows,
      cwd: spec.cwd,
      env: { TERM: "xterm-256color", ...spec.env },
      uid: spec.uid,
      gid: spec.gid,
      encoding: null,
    });
  } catch (err) {
    throw EnvdError.from(err, spec.file);
  }
  const pid = term.pid;
  term.onData((chunk) => sink.data("pty", Buffer.from(chunk as unknown as Uint8Array)));
  term.onExit(({ exitCode, signal }) => sink.end(endInfoFrom(exitCode, signal)));
  return {
    pid,
    isPty: true,
    async write(data) {
      // node-pty writes Buffers through to the master fd unchanged; its typings only mention strings.
      term.write(data as unknown as string);
    },
    closeStdin() {
      throw errors.failedPrecondition(`process ${pid} runs on a PTY: send 0x04 (Ctrl-D) as input instead`);
    },
    resize(cols, rows) {
      if (cols < 1 || rows < 1) throw errors.invalidArgument("PTY size must be at least 1x1");
      term.resize(cols, rows);
    },
    pause() {
      term.pause();
    },
    resume() {
      term.resume();
    },
  };
}
