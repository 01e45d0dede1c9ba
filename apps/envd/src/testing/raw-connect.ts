import http from "node:http";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { process as pb } from "@wrenn/protocol";

/**
 * Starts a process with a hand-made Connect streaming request over plain node:http, so a test can stop
 * reading the response at the socket level (a generated client would keep reading into its own buffers).
 */
export function rawStart(
  port: number,
  request: MessageInitShape<typeof pb.StartRequestSchema>,
  extraHeaders: Record<string, string> = {},
): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
  const body = toBinary(pb.StartRequestSchema, create(pb.StartRequestSchema, request));
  const envelope = Buffer.alloc(5 + body.length);
  envelope.writeUInt8(0, 0);
  envelope.writeUInt32BE(body.length, 1);
  Buffer.from(body).copy(envelope, 5);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/process.Process/Start",
        headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1", ...extraHeaders },
      },
      (res) => resolve({ res, req }),
    );
    req.on("error", reject);
    req.end(envelope);
  });
}
