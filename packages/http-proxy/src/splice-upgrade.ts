/**
 * Splices an HTTP Upgrade request (WebSocket and the like) onto a new TCP connection: the request head goes out as
 * text, and once the upstream answers, bytes flow both ways unchanged until either side closes.
 */
import net from "node:net";
import type { Duplex } from "node:stream";

/** What to splice where. */
export interface SpliceOptions {
  /** The client's socket, as the server's 'upgrade' event hands it over. */
  readonly client: Duplex;
  /** Bytes the client sent after the request head. */
  readonly head: Buffer;
  readonly host: string;
  readonly port: number;
  /** The request head to send upstream (see `upgradeRequestHead`). */
  readonly requestHead: string;
  /** Deadline for the upstream's first byte, in ms. */
  readonly answerTimeoutMs: number;
  /** The upstream failed or closed before answering; the client socket is still open for an error reply. */
  onUnanswered(err: Error): void;
}

/** Starts the splice; failures after the first answer byte close both sides. */
export function spliceUpgrade(o: SpliceOptions): void {
  const { client } = o;
  const upstream = net.connect({ host: o.host, port: o.port });
  let isAnswered = false;
  let isFailed = false;
  const timer = setTimeout(() => failEarly(new Error(`no answer within ${o.answerTimeoutMs} ms`)), o.answerTimeoutMs);
  const failEarly = (err: Error) => {
    if (isAnswered || isFailed) return;
    isFailed = true;
    clearTimeout(timer);
    upstream.destroy();
    client.off("close", onClientClose);
    o.onUnanswered(err);
  };
  const onClientClose = () => {
    clearTimeout(timer);
    upstream.destroy();
  };
  client.on("close", onClientClose);
  client.on("error", () => client.destroy());
  upstream.on("error", (err) => (isAnswered ? client.destroy() : failEarly(err)));
  upstream.once("close", () => (isAnswered ? client.destroy() : failEarly(new Error("closed before answering"))));
  upstream.once("connect", () => {
    upstream.setNoDelay(true);
    upstream.write(o.requestHead);
    if (o.head.length > 0) upstream.write(o.head);
  });
  upstream.once("data", (first: Buffer) => {
    if (isFailed) return;
    isAnswered = true;
    clearTimeout(timer);
    client.write(first);
    upstream.pipe(client);
    client.pipe(upstream);
  });
}
