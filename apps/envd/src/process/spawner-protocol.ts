import { errors } from "../errors.ts";
import type { SpawnSpec } from "./backend.ts";

/**
 * The wire format of wrenn-spawner (images/guest/wrenn-spawner.c, whose header is the reference).
 * Requests: u32 little-endian length + NUL-terminated fields, so argv and env may hold newlines.
 * Answers and events: one text line each.
 */

/** One line from the spawner. */
export type SpawnerLine =
  | { kind: "ok"; id: number; pid: number; stdinFd: number; stdoutFd: number; stderrFd: number }
  | { kind: "error"; id: number; errno: number; stage: string }
  | { kind: "exit"; pid: number; code: number | null; signal: number | null };

function frame(fields: readonly string[]): Buffer {
  for (const f of fields) {
    // A NUL would end the field early and shift every later one: refuse instead of starting something else.
    if (f.includes("\0")) throw errors.invalidArgument("process arguments and environment must not contain NUL");
  }
  // One string, one encode: a Buffer per field cost a few percent of envd's CPU per command under the interpreter.
  const payload = `${fields.join("\0")}\0`;
  const out = Buffer.allocUnsafe(4 + Buffer.byteLength(payload));
  out.writeUInt32LE(out.length - 4, 0);
  out.write(payload, 4);
  return out;
}

/** The spawn request for `spec` (argv[0] is the resolved file, as child_process.spawn does). */
export function encodeSpawn(id: number, spec: SpawnSpec): Buffer {
  const argv = [spec.file, ...spec.args];
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  return frame([
    "spawn",
    String(id),
    spec.file,
    spec.cwd,
    spec.uid === undefined ? "-" : String(spec.uid),
    spec.gid === undefined ? "-" : String(spec.gid),
    spec.stdin ? "1" : "0",
    String(argv.length),
    ...argv,
    String(env.length),
    ...env,
  ]);
}

/** Tells the spawner to close its copies of spawn `id`'s pipe ends. */
export function encodeRelease(id: number): Buffer {
  return frame(["release", String(id)]);
}

const INT = "(-?\\d+)";
const OK_RE = new RegExp(`^ok ${INT} ${INT} ${INT} ${INT} ${INT}$`);
const ERROR_RE = new RegExp(`^error ${INT} ${INT} (\\w+)$`);
const EXIT_RE = new RegExp(`^exit ${INT} (code|signal) ${INT}$`);

/** Parses one line (without its newline); undefined when it is not part of the protocol. */
export function parseSpawnerLine(line: string): SpawnerLine | undefined {
  let m = OK_RE.exec(line);
  if (m) {
    const [id, pid, stdinFd, stdoutFd, stderrFd] = m.slice(1).map(Number) as [number, number, number, number, number];
    return { kind: "ok", id, pid, stdinFd, stdoutFd, stderrFd };
  }
  m = ERROR_RE.exec(line);
  if (m) return { kind: "error", id: Number(m[1]), errno: Number(m[2]), stage: m[3] as string };
  m = EXIT_RE.exec(line);
  if (m) {
    const n = Number(m[3]);
    return { kind: "exit", pid: Number(m[1]), code: m[2] === "code" ? n : null, signal: m[2] === "signal" ? n : null };
  }
  return undefined;
}
