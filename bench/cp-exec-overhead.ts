/**
 * Exec round trip through the control plane and the agent, minus the same exec sent straight to envd
 * (issue 4: ≤ 5 ms p50). Starts a real local stack (control plane + agent + QEMU VM), creates one capsule and
 * alternates, N times each: `POST /v1/capsules/{id}/exec` of `true`, and envd `Process.Start` of `true` on the
 * capsule's forwarded port with its access token (read from the agent's capsule.json). Prints p50/p95 of both and
 * of the difference. Usage: node --import tsx bench/cp-exec-overhead.ts [runs=30]   (root; images built)
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { process as envdProcess } from "@wrenn/protocol";
import { startTestStack } from "../apps/cli/src/testing/e2e-stack.ts";
import { printLatencies } from "./percentiles.ts";

const RUNS = Number(process.argv[2] ?? 30);
const line = (label: string, xs: number[]) => printLatencies(label, xs, 40, 1);

const stack = await startTestStack();
try {
  const headers = { "x-api-key": stack.apiKey, "content-type": "application/json" };
  const created = await fetch(`${stack.baseUrl}/v1/capsules`, {
    method: "POST",
    headers,
    body: JSON.stringify({ template: "minimal" }),
  });
  const capsule = (await created.json()) as { id: string };
  const record = JSON.parse(
    await readFile(join(stack.filesRootDir, "sandboxes", capsule.id, "capsule.json"), "utf8"),
  ) as { hostPort: number; accessToken: string };
  const envd = createClient(
    envdProcess.Process,
    createConnectTransport({ baseUrl: `http://127.0.0.1:${record.hostPort}`, httpVersion: "1.1" }),
  );

  const viaApi = async () => {
    const t = performance.now();
    const res = await fetch(`${stack.baseUrl}/v1/capsules/${capsule.id}/exec`, {
      method: "POST",
      headers,
      body: JSON.stringify({ cmd: "true", args: ["x"] }), // with args the agent runs it directly, not via sh -c
    });
    const body = (await res.json()) as { exit_code: number };
    if (body.exit_code !== 0) throw new Error(`exec via API: ${JSON.stringify(body)}`);
    return performance.now() - t;
  };
  const direct = async () => {
    const t = performance.now();
    for await (const ev of envd.start(
      { process: { cmd: "true", args: ["x"], envs: {} } },
      { headers: { "X-Access-Token": record.accessToken } },
    )) {
      if (ev.event?.event.case === "end") break;
    }
    return performance.now() - t;
  };

  for (let i = 0; i < 3; i++) {
    await viaApi();
    await direct();
  }
  const api: number[] = [];
  const env: number[] = [];
  const diff: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = await viaApi();
    const d = await direct();
    api.push(a);
    env.push(d);
    diff.push(a - d);
  }
  console.log(
    `exec of \`true\` in one capsule, ${RUNS} alternating runs (load ${(await readFile("/proc/loadavg", "utf8")).split(" ")[0]})`,
  );
  line("via control plane + agent", api);
  line("straight to envd", env);
  line("overhead (pairwise difference)", diff);
  await fetch(`${stack.baseUrl}/v1/capsules/${capsule.id}`, { method: "DELETE", headers });
} finally {
  await stack.teardown();
}
