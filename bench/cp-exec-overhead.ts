/**
 * Exec round trip through the control plane and the agent, minus the same exec sent straight to envd
 * (issue 4: ≤ 5 ms p50). Starts a real local stack (control plane + agent + QEMU VM), creates one capsule and runs
 * N rounds, each path once per round in a random order with a short pause before every call:
 * `POST /v1/capsules/{id}/exec` of `true`; envd `Process.Start` of `true` on the capsule's forwarded port with its
 * access token (read from the agent's capsule.json); and the agent's Exec RPC itself, which splits the overhead
 * between the control plane and the agent. Prints p50/p95 of each and of the differences. The API calls and the
 * direct calls both go out on node:http keep-alive connections; the same exec through the API with fetch is printed
 * beside them. The control plane uses its embedded PGlite unless WRENN_TEST_DATABASE_URL names a PostgreSQL server
 * (scripts/pg-test.sh start prints one), where a throwaway database is made.
 * Usage: [WRENN_TEST_DATABASE_URL=…] node --import tsx bench/cp-exec-overhead.ts [runs=30]   (root; images built)
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { process as envdProcess, hostagent } from "@wrenn/protocol";
import pg from "pg";
import { startTestStack } from "../apps/cli/src/testing/e2e-stack.ts";
import { h2cTransport } from "../apps/control-plane/src/agents/agent-pool.ts";
import { printLatencies } from "./percentiles.ts";

const RUNS = Number(process.argv[2] ?? 30);

/** Pause before every measured call, ms. */
const PAUSE_MS = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
/** One request on a kept-alive node:http connection; the whole body as text. */
function apiRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method, headers, agent: keepAlive }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
const line = (label: string, xs: number[]) => printLatencies(label, xs, 40, 1);

const adminUrl = process.env.WRENN_TEST_DATABASE_URL;
const dbName = `wrenn_exec_bench_${process.pid}`;
let databaseUrl: string | undefined;
if (adminUrl) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
}
const stack = await startTestStack({ databaseUrl });
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
    // Binary protobuf, as the agent speaks to envd.
    createConnectTransport({
      baseUrl: `http://127.0.0.1:${record.hostPort}`,
      httpVersion: "1.1",
      useBinaryFormat: true,
    }),
  );

  // The agent's own RPC, as the control plane calls it: splits the overhead between the two hops.
  const { agent_key: agentKey } = JSON.parse(await readFile(join(stack.filesRootDir, "host-token"), "utf8")) as {
    agent_key: string;
  };
  const agentHop = h2cTransport({ id: stack.hostId, address: stack.agentAddress, agentKey });
  const agent = createClient(hostagent.HostAgentService, agentHop.transport);
  const viaAgent = async () => {
    const t = performance.now();
    const r = await agent.exec({ capsuleId: capsule.id, cmd: "true", args: ["x"], envs: {}, cwd: "", timeoutSec: 30 });
    if (r.exitCode !== 0) throw new Error(`exec via agent: exit ${r.exitCode}`);
    return performance.now() - t;
  };

  // The API call goes out on node:http, the HTTP client under the direct call's connect-es transport, so the
  // difference is what the two layers add and not which client library the bench picked; the same exec via fetch
  // (undici, what the TypeScript SDK uses) is measured too, beside it.
  const execBody = JSON.stringify({ cmd: "true", args: ["x"] }); // with args the agent runs it directly, not via sh -c
  const viaApi = async () => {
    const t = performance.now();
    const res = await apiRequest(stack.baseUrl, "POST", `/v1/capsules/${capsule.id}/exec`, headers, execBody);
    const body = JSON.parse(res.body) as { exit_code: number };
    if (body.exit_code !== 0) throw new Error(`exec via API: ${res.body}`);
    return performance.now() - t;
  };
  const viaFetch = async () => {
    const t = performance.now();
    const res = await fetch(`${stack.baseUrl}/v1/capsules/${capsule.id}/exec`, {
      method: "POST",
      headers,
      body: execBody,
    });
    const body = (await res.json()) as { exit_code: number };
    if (body.exit_code !== 0) throw new Error(`exec via API (fetch): ${JSON.stringify(body)}`);
    return performance.now() - t;
  };
  // Like the agent, the direct call answers at the end event and reads the rest of the stream (the end of the
  // response) in the background, so its connection goes back to the pool for the next call.
  const direct = async () => {
    const t = performance.now();
    const events = envd
      .start({ process: { cmd: "true", args: ["x"], envs: {} } }, { headers: { "X-Access-Token": record.accessToken } })
      [Symbol.asyncIterator]();
    for (;;) {
      const next = await events.next();
      if (next.done) throw new Error("envd's stream ended without an end event");
      if (next.value.event?.event.case === "end") break;
    }
    const took = performance.now() - t;
    void (async () => {
      while (!(await events.next()).done) {}
    })();
    return took;
  };

  for (let i = 0; i < 3; i++) {
    await viaApi();
    await viaFetch();
    await viaAgent();
    await direct();
  }
  const api: number[] = [];
  const rpc: number[] = [];
  const env: number[] = [];
  const diff: number[] = [];
  const cpShare: number[] = [];
  const agentShare: number[] = [];
  const fetchDiff: number[] = [];
  // Each round runs the four paths in a fresh random order, each after a short pause: the guest finishes a command's
  // trailing work (closing its pipes, the end of the stream) after the answer, and a path that always came right after
  // another would pay for it every time.
  const paths = { a: viaApi, g: viaAgent, d: direct, f: viaFetch };
  for (let i = 0; i < RUNS; i++) {
    const took: Record<string, number> = {};
    for (const key of shuffled(Object.keys(paths) as (keyof typeof paths)[])) {
      await sleep(PAUSE_MS);
      took[key] = await paths[key]();
    }
    const { a = 0, g = 0, d = 0, f = 0 } = took;
    api.push(a);
    rpc.push(g);
    env.push(d);
    diff.push(a - d);
    cpShare.push(a - g);
    agentShare.push(g - d);
    fetchDiff.push(f - d);
  }
  console.log(
    `exec of \`true\` in one capsule, control plane on ${databaseUrl ? "PostgreSQL" : "PGlite"}, ${RUNS} rounds in random order, ${PAUSE_MS} ms apart (load ${(await readFile("/proc/loadavg", "utf8")).split(" ")[0]})`,
  );
  line("via control plane + agent", api);
  line("agent RPC (no control plane)", rpc);
  line("straight to envd", env);
  line("overhead (pairwise difference)", diff);
  line("  control plane's share (API − agent RPC)", cpShare);
  line("  agent's share (agent RPC − envd)", agentShare);
  line("overhead with fetch as the API client", fetchDiff);

  // The same two layers on a call that starts nothing in the guest (envd's process list): what they cost when the
  // emulator is not busy running a command on one of the two cores.
  const listViaApi = async () => {
    const t = performance.now();
    const res = await apiRequest(stack.baseUrl, "GET", `/v1/capsules/${capsule.id}/processes`, headers);
    if (res.status !== 200) throw new Error(`list via API: ${res.status}`);
    JSON.parse(res.body);
    return performance.now() - t;
  };
  const listDirect = async () => {
    const t = performance.now();
    await envd.list({}, { headers: { "X-Access-Token": record.accessToken } });
    return performance.now() - t;
  };
  const listApi: number[] = [];
  const listEnvd: number[] = [];
  const listDiff: number[] = [];
  for (let i = 0; i < 3; i++) {
    await listViaApi();
    await listDirect();
  }
  for (let i = 0; i < RUNS; i++) {
    const apiFirst = Math.random() < 0.5;
    await sleep(PAUSE_MS);
    const a0 = apiFirst ? await listViaApi() : 0;
    await sleep(PAUSE_MS);
    const d = await listDirect();
    await sleep(PAUSE_MS);
    const a = apiFirst ? a0 : await listViaApi();
    listApi.push(a);
    listEnvd.push(d);
    listDiff.push(a - d);
  }
  line("process list via control plane + agent", listApi);
  line("process list straight to envd", listEnvd);
  line("  overhead (pairwise difference)", listDiff);

  await fetch(`${stack.baseUrl}/v1/capsules/${capsule.id}`, { method: "DELETE", headers });
  agentHop.close?.();
  keepAlive.destroy();
} finally {
  await stack.teardown();
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName}`);
    await admin.end();
  }
}
