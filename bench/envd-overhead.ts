/**
 * envd's overhead on a command: time from a Start request to its end event, minus the time the kernel
 * takes to spawn the same binary directly (node child_process, same machine).
 *   node --import tsx bench/envd-overhead.ts [iterations=300]
 */
import { spawn } from "node:child_process";
import { pct, startEnvd } from "./envd-harness.ts";

const iterations = Number(process.argv[2] ?? 300);
const cmd = "/bin/true";

async function spawnDirect(): Promise<number> {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(cmd, [], { stdio: ["ignore", "pipe", "pipe"] });
    c.once("error", reject);
    c.once("close", () => resolve());
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const envd = await startEnvd();
try {
  const line = (name: string, xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${name.padEnd(22)} p50 ${pct(s, 50).toFixed(2)} ms  p90 ${pct(s, 90).toFixed(2)} ms  mean ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)} ms`;
  };
  const direct: number[] = [];
  const via: Record<string, number[]> = { "1.1": [], "2": [] };
  for (let i = 0; i < 20; i++) {
    await spawnDirect();
    for await (const _ of envd.client("1.1").start({ process: { cmd } }));
    for await (const _ of envd.client("2").start({ process: { cmd } }));
  }
  for (let i = 0; i < iterations; i++) {
    direct.push(await spawnDirect());
    for (const v of ["1.1", "2"] as const) {
      const t0 = process.hrtime.bigint();
      for await (const r of envd.client(v).start({ process: { cmd } })) {
        if (r.event?.event.case === "end") break;
      }
      via[v]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const p50 = (xs: number[]) =>
    pct(
      [...xs].sort((a, b) => a - b),
      50,
    );
  console.log(`envd overhead on ${cmd} (${iterations} runs, envd = ${envd.kind}, host)`);
  console.log(line("direct spawn", direct));
  console.log(line("envd Start HTTP/1.1", via["1.1"]!));
  console.log(line("envd Start HTTP/2", via["2"]!));
  console.log(
    `overhead p50: HTTP/1.1 ${(p50(via["1.1"]!) - p50(direct)).toFixed(2)} ms, HTTP/2 ${(p50(via["2"]!) - p50(direct)).toFixed(2)} ms (goal ≤ 2 ms on the host)`,
  );
} finally {
  await envd.stop();
}
