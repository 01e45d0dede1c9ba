/**
 * Expands `$VAR` and `${VAR}` in an `ENV` value against the build's current environment (reference §9 "Recipe
 * format"); `$$` is a literal `$`, an unset variable expands to nothing, and a `$` not followed by a name stays as is.
 * Throws on an unterminated `${`.
 */
export function expandEnv(value: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== "$") {
      out += ch;
      continue;
    }
    const next = value[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "{") {
      const end = value.indexOf("}", i + 2);
      if (end < 0) throw new Error("unterminated ${ in value");
      const name = value.slice(i + 2, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid variable name \${${name}}`);
      out += lookup(name) ?? "";
      i = end;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(value.slice(i + 1));
      if (!m) {
        out += "$";
        continue;
      }
      out += lookup(m[0]) ?? "";
      i += m[0].length;
    }
  }
  return out;
}
