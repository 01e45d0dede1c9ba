import type { MessageInitShape } from "@bufbuild/protobuf";
import type { process as pb } from "@wrenn/protocol";
import type { OutputEvent } from "./subscription.ts";

/** A ProcessEvent in protobuf-es init form. */
export type ProcessEventInit = MessageInitShape<typeof pb.ProcessEventSchema>;

/** The first event of a Start stream. */
export function startEvent(pid: number): ProcessEventInit {
  return { event: { case: "start", value: { pid } } };
}

/** Maps an internal output event to its wire form. */
export function toProcessEvent(ev: OutputEvent): ProcessEventInit {
  switch (ev.kind) {
    case "end":
      return {
        event: {
          case: "end",
          value: { exitCode: ev.end.exitCode, exited: ev.end.exited, status: ev.end.status, error: ev.end.error },
        },
      };
    case "keepalive":
      return { event: { case: "keepalive", value: {} } };
    default:
      return { event: { case: "data", value: { output: { case: ev.kind, value: ev.data } } } };
  }
}
