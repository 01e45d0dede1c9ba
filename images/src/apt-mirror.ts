import { readFile } from "node:fs/promises";

/** Used when the host's apt sources name no mirror for the suite. */
export const FALLBACK_MIRROR = "http://deb.debian.org/debian";

/**
 * Finds the Debian mirror the host's apt already uses for `suite` (not its -security or -updates
 * pocket), from deb822 text (`/etc/apt/sources.list.d/debian.sources`) or one-line `sources.list` text.
 */
export function mirrorFromSources(text: string, suite: string): string | undefined {
  // deb822: blank-line separated stanzas of "Key: value" fields.
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    const types = (fields.get("types") ?? "").split(/\s+/);
    const suites = (fields.get("suites") ?? "").split(/\s+/);
    const uri = (fields.get("uris") ?? "").split(/\s+/)[0];
    if (types.includes("deb") && suites.includes(suite) && uri && fields.get("enabled") !== "no")
      return uri.replace(/\/+$/, "");
  }
  // One-line format: deb [options] URI SUITE COMPONENTS…
  for (const line of text.split("\n")) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m?.[1] && m[2] === suite) return m[1].replace(/\/+$/, "");
  }
  return undefined;
}

/** The mirror for `suite` from the host's apt configuration, or {@link FALLBACK_MIRROR}. */
export async function hostMirror(suite: string): Promise<string> {
  for (const file of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    const mirror = mirrorFromSources(text, suite);
    if (mirror) return mirror;
  }
  return FALLBACK_MIRROR;
}
