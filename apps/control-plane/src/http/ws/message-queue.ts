import type { WebSocket } from "ws";

/** A client message: a parsed JSON object with a string `type`, or why it could not be parsed. */
export type ClientMessage = { ok: true; msg: { type: string; [k: string]: unknown } } | { ok: false; error: string };

const MAX_QUEUED = 256;

/**
 * Buffers a socket's messages from the moment of upgrade, so nothing is lost while the handler
 * authenticates or looks the capsule up. Parses JSON text frames; malformed ones are reported
 * as `{ok:false}` instead of throwing.
 */
export class MessageQueue {
  private readonly items: ClientMessage[] = [];
  private waiter?: (m: ClientMessage | undefined) => void;
  private closed = false;

  constructor(socket: WebSocket) {
    socket.on("message", (data, isBinary) => this.push(parse(data as Buffer, isBinary)));
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.(undefined);
      this.waiter = undefined;
    });
  }

  private push(m: ClientMessage) {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(m);
    } else if (this.items.length < MAX_QUEUED) {
      this.items.push(m);
    }
  }

  /** The next message; undefined when the socket closed or `timeoutMs` passed. */
  next(timeoutMs: number): Promise<ClientMessage | undefined> {
    const m = this.items.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (v) => {
        clearTimeout(t);
        resolve(v);
      };
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function parse(data: Buffer, isBinary: boolean): ClientMessage {
  if (isBinary) return { ok: false, error: "binary frames are not accepted; send JSON text" };
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch {
    return { ok: false, error: "message is not valid JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as { type?: unknown }).type !== "string") {
    return { ok: false, error: 'message must be a JSON object with a string "type"' };
  }
  return { ok: true, msg: v as { type: string } };
}

/** Sends a JSON message if the socket is still open. */
export function sendJson(socket: WebSocket, msg: Record<string, unknown>): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
}
