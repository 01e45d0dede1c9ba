/** The quickstart's proof of life: a capsule runs two commands, their output is printed, the capsule goes. */
import { Capsule } from "wrenn";

/** Creates a capsule, runs `uname -a` and a Python one-liner, prints both, destroys it. */
export async function runFirstCapsule(
  conn: { baseUrl: string; apiKey: string },
  print: (line: string) => void,
): Promise<{ capsuleId: string; outputs: string[] }> {
  const started = Date.now();
  await using capsule = await Capsule.create({ ...conn, template: "minimal" });
  print(`capsule ${capsule.id} is running (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const outputs: string[] = [];
  for (const [cmd, args] of [
    ["uname", ["-a"]],
    ["python3", ["-c", "print('hello from a capsule')"]],
  ] as const) {
    const r = await capsule.commands.run(cmd, { args: [...args], timeoutSec: 60 });
    if (r.exitCode !== 0) throw new Error(`\`${cmd} ${args.join(" ")}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
    print(`$ ${cmd} ${args.map((a) => (a.includes(" ") ? `"${a}"` : a)).join(" ")}`);
    print(r.stdout.trimEnd());
    outputs.push(r.stdout);
  }
  return { capsuleId: capsule.id, outputs };
}
