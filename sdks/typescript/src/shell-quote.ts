/** Quotes one word for POSIX `sh` so it reaches the program unchanged. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Builds the `sh -c` script that runs `script` in `cwd` with extra environment variables.
 * Used for foreground commands, whose API route does not carry `envs`/`cwd`.
 */
export function wrapScript(script: string, envs?: Record<string, string>, cwd?: string): string {
  const parts: string[] = [];
  if (cwd) parts.push(`cd ${shellQuote(cwd)} &&`);
  const vars = Object.entries(envs ?? {});
  if (vars.length > 0) {
    for (const [k] of vars) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`invalid environment variable name: ${k}`);
    }
    parts.push(`exec env ${vars.map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ")} /bin/sh -c ${shellQuote(script)}`);
  } else if (cwd) parts.push(`exec /bin/sh -c ${shellQuote(script)}`);
  else return script;
  return parts.join(" ");
}
