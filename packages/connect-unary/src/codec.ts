import { type DescMessage, fromJsonString, type MessageShape, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** How one message format (binary or JSON) reads a call's request and writes its answers. */
export interface Codec {
  /** What the answer says it is. */
  readonly contentType: string;
  /** A request body → the message; a body that is not one throws. */
  decode(bytes: Uint8Array): unknown;
  /** A message → its body. */
  encode(message: unknown): Uint8Array;
}

/**
 * Binary protobuf through `decode` and `encode` (protobuf-es's, or a method's hand-written ones). A body `decode`
 * refuses is InvalidArgument, "cannot decode the request: …".
 */
export function binaryCodec(
  contentType: string,
  decode: (bytes: Uint8Array) => unknown,
  encode: (message: unknown) => Uint8Array,
): Codec {
  return {
    contentType,
    encode,
    decode(bytes) {
      try {
        return decode(bytes);
      } catch (err) {
        throw new ConnectError(`cannot decode the request: ${String(err)}`, Code.InvalidArgument);
      }
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reads `input` and writes `output` messages as connect-es's servers do (its `createJsonSerialization`, which is not
 * public): unknown fields are ignored on read, a read failure is InvalidArgument with protobuf-es's message, and
 * writing uses protobuf-es's defaults. `contentType` is the unary or the streaming one.
 */
export function jsonCodec(input: DescMessage, output: DescMessage, contentType: string): Codec {
  return {
    contentType,
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
