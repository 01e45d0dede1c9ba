/**
 * The placeholder dashboard served at `/`: one self-contained page (no CDN, no build step) that lists the
 * team's capsules with an API key kept in the browser's localStorage. The full dashboard is a later issue.
 */
export const DASHBOARD_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Wrenn</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd}
.running{color:#2a7}.paused{color:#a72}.error,.missing{color:#c33}input{width:26em}</style></head>
<body><h1>Wrenn</h1>
<p>MicroVM capsules. API reference: <a href="/docs">/docs</a> · <a href="/openapi.yaml">/openapi.yaml</a> ·
health: <span id="health">…</span></p>
<p><label>API key <input id="key" type="password" placeholder="wrn_…" autocomplete="off"></label>
<button id="save">Show my capsules</button></p>
<p id="msg"></p>
<table id="list" hidden><thead><tr><th>id</th><th>status</th><th>template</th><th>vCPUs</th><th>memory</th><th>created</th></tr></thead><tbody></tbody></table>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
fetch("/health").then((r) => r.json()).then((h) => ($("health").textContent = h.status + " (v" + h.version + ")"))
  .catch(() => ($("health").textContent = "unreachable"));
$("key").value = localStorage.getItem("wrenn_api_key") || "";
async function refresh() {
  const key = localStorage.getItem("wrenn_api_key");
  if (!key) return;
  const res = await fetch("/v1/capsules", { headers: { "X-API-Key": key } });
  const body = await res.json();
  if (!res.ok) { $("msg").textContent = body.error ? body.error.message : "error " + res.status; return; }
  $("msg").textContent = body.length + " capsule(s)";
  $("list").hidden = false;
  $("list").tBodies[0].innerHTML = body.map((c) => "<tr><td><code>" + esc(c.id) + "</code></td><td class='" + esc(c.status) + "'>" +
    esc(c.status) + "</td><td>" + esc(c.template) + "</td><td>" + esc(c.vcpus) + "</td><td>" + esc(c.memory_mb) +
    " MB</td><td>" + esc(c.created_at) + "</td></tr>").join("");
}
$("save").onclick = () => { localStorage.setItem("wrenn_api_key", $("key").value.trim()); refresh(); };
refresh(); setInterval(refresh, 5000);
</script></body></html>`;
