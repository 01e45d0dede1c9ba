/**
 * Header handling of the port proxy: which request and response headers cross a hop (RFC 9110 §7.6.1), and the
 * request head written as text when an Upgrade request is spliced onto a new connection.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Header that carries the user's own `Authorization` from the control plane to the agent, whose `Authorization`
 * holds the agent key; the agent hands it to the guest server as `Authorization` again.
 */
export const CLIENT_AUTHORIZATION_HEADER = "x-wrenn-client-authorization";

/** Headers that belong to one connection and are never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/** End-to-end headers of `headers` less the names in `drop` (lower case); HTTP/2 pseudo-headers are left out. */
export function endToEndHeaders(headers: IncomingHttpHeaders, drop: readonly string[] = []): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":") || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (drop.includes(name)) continue;
    out[name] = value;
  }
  // gRPC and other trailer users announce it; it is the one TE value a proxy passes on.
  if (/\btrailers\b/i.test(String(headers.te ?? ""))) out.te = "trailers";
  return out;
}

/**
 * The head of an Upgrade request as HTTP/1.1 text: `rawHeaders` (order and case kept, Connection and Upgrade
 * included) less the names in `drop`, plus `add`.
 */
export function upgradeRequestHead(
  method: string,
  path: string,
  rawHeaders: readonly string[],
  drop: readonly string[],
  add: Record<string, string>,
): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (!drop.includes(name.toLowerCase())) head += `${name}: ${rawHeaders[i + 1]}\r\n`;
  }
  for (const [name, value] of Object.entries(add)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}

/** The API's error body `{"error":{"code","message"}}` as a JSON string. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Answers on a raw socket (an Upgrade request that will not be upgraded) and closes it. */
export function writeSocketError(socket: Duplex, status: number, code: string, message: string): void {
  const body = errorBody(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
