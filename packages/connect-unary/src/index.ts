export { type LeanStreamHandlerOptions, leanServerStreamHandler } from "./lean-stream-server.ts";
export { type LeanUnaryTransportOptions, leanUnaryTransport } from "./lean-unary-client.ts";
export { type LeanUnaryHandlerOptions, leanUnaryHandler } from "./lean-unary-server.ts";
export { type PushStreamCall, type PushStreamMethod, pushAsGenerator } from "./push-stream.ts";
export { BufferedRequest, type LeanHandler, type PlainResponse } from "./wire.ts";
