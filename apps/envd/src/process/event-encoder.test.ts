import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { process as pb } from "@wrenn/protocol";
import { PROCESS_EVENT_CASES as cases } from "../testing/process-event-cases.ts";
import { encodeProcessStreamResponse } from "./event-encoder.ts";
import type { ProcessEventInit } from "./events.ts";

/** What protobuf-es writes for the same answer, the reference the hand-written encoder must equal. */
function reference(event: ProcessEventInit | undefined, connect = false): Buffer {
  const init = event === undefined ? {} : { event };
  return Buffer.from(
    connect
      ? toBinary(pb.ConnectResponseSchema, create(pb.ConnectResponseSchema, init))
      : toBinary(pb.StartResponseSchema, create(pb.StartResponseSchema, init)),
  );
}

describe("encodeProcessStreamResponse", () => {
  for (const [name, event] of cases) {
    it(`writes protobuf-es's bytes: ${name}`, () => {
      const message = event === undefined ? {} : { event };
      assert.deepEqual(Buffer.from(encodeProcessStreamResponse(message)), reference(event));
      // ConnectResponse has the same shape and field number.
      assert.deepEqual(Buffer.from(encodeProcessStreamResponse(message)), reference(event, true));
    });
  }
});
