import { type DescMessage, fromJsonString, type MessageShape, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** One side of a call in Connect's JSON form. */
export interface JsonCodec {
  /** A request body → the message; a body that is not one is InvalidArgument. */
  decode(bytes: Uint8Array): unknown;
  /** A message → its body. */
  encode(message: unknown): Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reads `input` and writes `output` messages as connect-es's servers do (its `createJsonSerialization`, which is not
 * public): unknown fields are ignored on read, a read failure is InvalidArgument with protobuf-es's message, and
 * writing uses protobuf-es's defaults.
 */
export function jsonCodec(input: DescMessage, output: DescMessage): JsonCodec {
  return {
    decode(bytes) {
      try {
        return fromJsonString(input, decoder.decode(bytes), { ignoreUnknownFields: true });
      } catch (err) {
        throw ConnectError.from(err, Code.InvalidArgument);
      }
    },
    encode(message) {
      return encoder.encode(toJsonString(output, message as MessageShape<DescMessage>));
    },
  };
}
