/** The agent's proxy route: `/proxy/{capsuleId}/{port}/{path…}` (the control plane concatenates the user's path). */

/** Where one proxied request goes. */
export interface ProxyTarget {
  readonly capsuleId: string;
  /** TCP port in the guest, 1..65535. */
  readonly port: number;
  /** Path and query for the guest server; always starts with "/" (a trailing slash is kept as sent). */
  readonly path: string;
}

const ROUTE = /^\/proxy\/([A-Za-z0-9_-]+)\/(\d{1,5})([/?].*)?$/s;

/** True when `url` is on the proxy route (it may still be malformed: see `parseProxyPath`). */
export function isProxyPath(url: string | undefined): boolean {
  return url?.startsWith("/proxy/") ?? false;
}

/** Parses a proxy URL; undefined when it is not `/proxy/{id}/{1..65535}[/path][?query]`. */
export function parseProxyPath(url: string): ProxyTarget | undefined {
  const m = ROUTE.exec(url);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65_535) return undefined;
  const rest = m[3] ?? "";
  return { capsuleId: m[1] as string, port, path: rest.startsWith("/") ? rest : `/${rest}` };
}
