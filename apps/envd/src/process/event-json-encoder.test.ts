import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toJsonString } from "@bufbuild/protobuf";
import { process as pb } from "@wrenn/protocol";
import { PROCESS_EVENT_CASES } from "../testing/process-event-cases.ts";
import { encodeProcessStreamResponseJson } from "./event-json-encoder.ts";
import type { ProcessEventInit } from "./events.ts";

/** What protobuf-es writes for the same answer (as connect-es sends it), the reference the encoder must equal. */
function reference(event: ProcessEventInit | undefined, connect = false): string {
  const init = event === undefined ? {} : { event };
  return connect
    ? toJsonString(pb.ConnectResponseSchema, create(pb.ConnectResponseSchema, init))
    : toJsonString(pb.StartResponseSchema, create(pb.StartResponseSchema, init));
}

describe("encodeProcessStreamResponseJson", () => {
  for (const [name, event] of PROCESS_EVENT_CASES) {
    it(`writes protobuf-es's JSON: ${name}`, () => {
      const message = event === undefined ? {} : { event };
      const json = Buffer.from(encodeProcessStreamResponseJson(message)).toString("utf8");
      assert.equal(json, reference(event));
      assert.equal(json, reference(event, true), "ConnectResponse has the same shape");
    });
  }

  it("encodes the bytes a chunk views, not the whole buffer under it", () => {
    const whole = Buffer.from("0123456789");
    const chunk = whole.subarray(3, 6);
    const event: ProcessEventInit = { event: { case: "data", value: { output: { case: "stdout", value: chunk } } } };
    assert.equal(Buffer.from(encodeProcessStreamResponseJson({ event })).toString(), reference(event));
  });
});
