/** The port proxy's addressing: `Host: {port}-{capsule id}.{domain}` (reference §1.2, "port proxy"). */

/** The reference's pattern; the rest of the host name (the domain) is not checked. */
const PROXY_HOST = /^(\d+)-(cl-[0-9a-z]+)\./;

/** A capsule port named by a Host header. */
export interface ProxyHost {
  readonly capsuleId: string;
  /** As written; `isValidPort` tells whether it is 1..65535. */
  readonly port: number;
}

/** The capsule port a Host header names, or undefined for every other host (the API's own requests). */
export function parseProxyHost(host: string | undefined): ProxyHost | undefined {
  if (!host) return undefined;
  const m = PROXY_HOST.exec(host.toLowerCase());
  return m ? { port: Number(m[1]), capsuleId: m[2] as string } : undefined;
}

/** True for a TCP port number a guest server can listen on. */
export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** The agent's path for a request: the user's path and query appended as sent (not joined: trailing slashes stay). */
export function agentPath(target: ProxyHost, url: string): string {
  return `/proxy/${target.capsuleId}/${target.port}${url.startsWith("/") ? url : `/${url}`}`;
}

/** A `Location` the guest server sent, with the agent's `/proxy/{id}/{port}` prefix taken off. */
export function stripProxyPrefix(location: string, target: ProxyHost): string {
  const prefix = `/proxy/${target.capsuleId}/${target.port}`;
  if (!location.startsWith(prefix)) return location;
  const rest = location.slice(prefix.length);
  if (rest === "" || rest.startsWith("?")) return `/${rest}`;
  // Otherwise the prefix matched only part of a path segment (port 80 in `/proxy/{id}/8080`): not ours.
  return rest.startsWith("/") ? rest : location;
}
