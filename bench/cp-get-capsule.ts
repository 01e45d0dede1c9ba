/**
 * GET /v1/capsules/{id} with an API key against PostgreSQL: prints requests/s and latency.
 *
 *   WRENN_TEST_DATABASE_URL=$(scripts/pg-test.sh start) node --import tsx bench/cp-get-capsule.ts [seconds] [connections]
 *
 * Starts wrenn-cp as a child process on a fresh database (so client and server do not share an
 * event loop), bootstraps an API key, inserts one running capsule row, then runs a bounded
 * keep-alive load from this process. Target: ≥ 5,000 req/s.
 *
 * Also prints the server's CPU time per request (from /proc), a figure that does not depend on how busy the
 * machine is: 1e6 / cpu_us_per_req is the req/s one free core would serve. `BENCH_NODE_ARGS` adds node flags to
 * the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import pg from "pg";

const root = join(import.meta.dirname, "..");
const adminUrl = process.env.WRENN_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
if (!adminUrl) {
  console.error("set WRENN_TEST_DATABASE_URL (scripts/pg-test.sh start prints one)");
  process.exit(2);
}
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 64);
const port = 20_000 + Math.floor(Math.random() * 20_000);
const dbName = `wrenn_bench_${process.pid}`;
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database ${dbName}`);
const env = {
  ...process.env,
  DATABASE_URL: url.toString(),
  CP_LISTEN_ADDR: `127.0.0.1:${port}`,
  LOG_LEVEL: "warn",
  JWT_SECRET: "bench-secret-bench-secret-bench-secret",
};
// BENCH_CP_MAIN: another checkout's main.ts, to compare versions on the same machine state.
const main = process.env.BENCH_CP_MAIN || join(root, "apps/control-plane/src/main.ts");
const boot = spawnSync(
  process.execPath,
  ["--import", "tsx", main, "bootstrap", "--email", "bench@example.com", "--password", "benchbench"],
  { env, encoding: "utf8" },
);
if (boot.status !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
const { api_key: key, team_id: teamId } = JSON.parse(boot.stdout) as { api_key: string; team_id: string };
const capsuleId = "cl-bench000000000000000000000";
const db = new pg.Client({ connectionString: url.toString() });
await db.connect();
await db.query(
  "insert into capsules (id, team_id, template, status, vcpus, memory_mb) values ($1, $2, 'minimal', 'running', 1, 512)",
  [capsuleId, teamId],
);
await db.end();

const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const server = spawn(process.execPath, [...nodeArgs, "--import", "tsx", main], {
  env,
  stdio: ["ignore", "ignore", "inherit"],
});
/** utime + stime of a process in microseconds (Linux clock ticks are 10 ms). */
const cpuUs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const path = process.env.BENCH_PATH ?? `/v1/capsules/${capsuleId}`;
const get = () =>
  new Promise<number>((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent, headers: { "x-api-key": key } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
  });

try {
  const ready = Date.now() + 30_000;
  for (;;) {
    if ((await get().catch(() => 0)) === 200) break;
    if (Date.now() > ready) throw new Error("wrenn-cp did not come up within 30 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  const runFor = async (ms: number) => {
    const lat: number[] = [];
    let errors = 0;
    const end = Date.now() + ms;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (Date.now() < end) {
          const t = performance.now();
          const code = await get().catch(() => 0);
          if (code === 200) lat.push(performance.now() - t);
          else errors++;
        }
      }),
    );
    return { lat, errors };
  };
  await runFor(2000); // warm-up: JIT, pool connections
  const started = Date.now();
  const cpuBefore = cpuUs(server.pid!);
  const { lat, errors } = await runFor(seconds * 1000);
  const serverCpuUs = cpuUs(server.pid!) - cpuBefore;
  const elapsed = (Date.now() - started) / 1000;
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  lat.sort((a, b) => a - b);
  const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]?.toFixed(2);
  console.log(
    JSON.stringify({
      bench: "GET /v1/capsules/{id} (API key, PostgreSQL)",
      connections,
      seconds: elapsed,
      requests: lat.length,
      errors,
      req_per_s: Math.round(lat.length / elapsed),
      p50_ms: p(0.5),
      p99_ms: p(0.99),
      server_cpu_us_per_req: Math.round(serverCpuUs / Math.max(1, lat.length)),
      loadavg: load,
    }),
  );
} finally {
  agent.destroy();
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}
