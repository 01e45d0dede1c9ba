/** Minimal shape of the OpenAPI document read by the docs page. */
interface Spec {
  info?: { title?: string; version?: string };
  paths?: Record<string, Record<string, { summary?: string; description?: string; tags?: string[] }>>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A self-contained HTML list of every operation, grouped by tag. No CDN is reachable from
 * many installs, so this page loads nothing; the full spec is at /openapi.yaml.
 */
export function docsPage(specIn: unknown): string {
  const spec = specIn as Spec;
  const groups = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(spec.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? "other";
      const line = `<li><code class="m ${esc(method)}">${esc(method.toUpperCase())}</code> <code>${esc(path)}</code>${op.description ? ` — ${esc(op.description)}` : ""}</li>`;
      groups.set(tag, [...(groups.get(tag) ?? []), line]);
    }
  }
  const sections = [...groups.entries()]
    .map(([tag, lines]) => `<h2>${esc(tag)}</h2><ul>${lines.join("")}</ul>`)
    .join("\n");
  const title = esc(`${spec.info?.title ?? "API"} ${spec.info?.version ?? ""}`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:15px system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}code{font-size:13px}
.m{display:inline-block;width:4.5em;font-weight:bold}.get{color:#2a7}.post{color:#27a}.delete{color:#c33}.patch,.put{color:#a72}</style>
</head><body><h1>${title}</h1><p>Machine-readable spec: <a href="/openapi.yaml">/openapi.yaml</a>. WebSockets: <code>/v1/capsules/{id}/exec/stream</code>, <code>/v1/capsules/{id}/pty</code>, <code>/v1/capsules/{id}/processes/{selector}/stream</code>.</p>
${sections}</body></html>`;
}
