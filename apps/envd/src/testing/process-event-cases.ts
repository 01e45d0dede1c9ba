/** Process events the hand-written encoders are checked with against protobuf-es: every member, edge values, sizes. */
import type { ProcessEventInit } from "../process/events.ts";

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 256));

export const PROCESS_EVENT_CASES: Array<[string, ProcessEventInit | undefined]> = [
  ["no event", undefined],
  ["an empty event", {}],
  ["start pid 0", { event: { case: "start", value: { pid: 0 } } }],
  ["start pid 1", { event: { case: "start", value: { pid: 1 } } }],
  ["start pid 300", { event: { case: "start", value: { pid: 300 } } }],
  ["start pid 4194304", { event: { case: "start", value: { pid: 4194304 } } }],
  ["start pid 2^32-1", { event: { case: "start", value: { pid: 2 ** 32 - 1 } } }],
  ["keepalive", { event: { case: "keepalive", value: {} } }],
  ["data without output", { event: { case: "data", value: {} } }],
  ["end, all zero", { event: { case: "end", value: {} } }],
  ["end exit 0", { event: { case: "end", value: { exitCode: 0, exited: true, status: "exit status 0" } } }],
  ["end exit 1", { event: { case: "end", value: { exitCode: 1, exited: true, status: "exit status 1" } } }],
  ["end exit 255", { event: { case: "end", value: { exitCode: 255, exited: true, status: "exit status 255" } } }],
  ["end exit -1, an error", { event: { case: "end", value: { exitCode: -1, status: "unknown", error: "lost" } } }],
  ["end exit -2^31", { event: { case: "end", value: { exitCode: -(2 ** 31), error: "" } } }],
  ["end exit 2^31-1", { event: { case: "end", value: { exitCode: 2 ** 31 - 1, exited: false } } }],
  ["end, unicode", { event: { case: "end", value: { status: "signal: killed ✓", error: "ü".repeat(100) } } }],
  [
    "end, characters JSON escapes",
    { event: { case: "end", value: { status: 'a "b"\n\t\u0001\u2028\\', error: "</script>\ud83d\ude00" } } },
  ],
];
for (const kind of ["stdout", "stderr", "pty"] as const) {
  for (const n of [0, 1, 127, 128, 16_383, 16_384, 65_536, 2_100_000]) {
    PROCESS_EVENT_CASES.push([
      `${kind} ${n} bytes`,
      { event: { case: "data", value: { output: { case: kind, value: bytes(n) } } } },
    ]);
  }
}
