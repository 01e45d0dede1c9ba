/**
 * envd's overhead on a command measured inside a real capsule VM (issue 3: ≤ 10 ms under TCG), both sides in the
 * guest: a client in the guest sends envd `process.Start` of /bin/true over loopback (Connect protocol, binary
 * protobuf as the agent sends it; JSON beside it) on a raw keep-alive HTTP/1.1 connection and times request → end
 * of stream, and times `posix_spawn` + `waitpid` of /bin/true on its own.
 * Overhead = p50 of the first minus p50 of the second; GET /health shows the HTTP round trip alone. Runs the agent's
 * capsule manager in-process (QEMU, TCG here).
 * The client is a static C program (guest/envd-overhead-client.c, compiled here, uploaded through envd) so that the
 * instrument costs next to nothing: whatever the client spends in the guest is counted as envd's, while in production
 * envd's caller is the host agent, outside the guest. A Python client's parsing alone was ~2–3 ms of emulated guest
 * CPU per call.
 * Usage: node --import tsx bench/envd-overhead-guest.ts [--runs 100]   (root; images built; gcc and libc6-dev)
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execInGuest } from "../apps/host-agent/src/envd-client/exec.ts";
import { runCommand } from "../images/src/run-command.ts";
import { startBenchAgent } from "./bench-agent.ts";
import { printLatencies } from "./percentiles.ts";

const { values } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(values.runs ?? 100);
const CLIENT_SOURCE = join(import.meta.dirname, "guest", "envd-overhead-client.c");
const GUEST_CLIENT = "/tmp/envd-overhead-client";

/** Compiles the in-guest client (static: the guest needs no matching libc) and returns its bytes. */
async function buildClient(): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-envd-overhead-client-"));
  try {
    const out = join(dir, "envd-overhead-client");
    await runCommand("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", out, CLIENT_SOURCE], {
      timeoutMs: 120_000,
      hint: "apt-get install -y gcc libc6-dev",
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const client = await buildClient();
const { root, layout, version, manager } = await startBenchAgent("wrenn-bench-envd-guest-", {
  poolSize: 1,
  restoreTimeoutMs: 60_000,
});

try {
  console.log(`envd overhead inside a capsule VM: ${version}, tcg, ${RUNS} runs, client and spawn timed in the guest`);
  await manager.start();
  const { capsuleId } = await manager.create({
    capsuleId: "cl-bench-envd",
    teamId: "team-bench",
    template: "minimal",
    vcpus: 1,
    memoryMb: 256,
    timeoutSec: 0,
    diskSizeMb: 0,
    defaultUser: "",
    defaultEnv: {},
  });
  const { accessToken } = JSON.parse(await readFile(layout.sandbox(capsuleId).record, "utf8")) as {
    accessToken: string;
  };
  const envd = manager.get(capsuleId).envd;
  await envd.writeFile(GUEST_CLIENT, client, 60_000);
  const chmod = await execInGuest(envd, "chmod", { args: ["+x", GUEST_CLIENT], timeoutMs: 60_000 });
  if (chmod.exitCode !== 0) throw new Error(`chmod of the guest client failed: ${chmod.stderr.toString()}`);
  const r = await execInGuest(envd, GUEST_CLIENT, { args: [String(RUNS), accessToken], timeoutMs: 600_000 });
  if (r.exitCode !== 0) throw new Error(`guest client failed: ${r.stderr.toString()}`);
  const {
    direct,
    envd: viaEnvd,
    envd_json: viaEnvdJson,
    health,
    cpu,
  } = JSON.parse(r.stdout.toString()) as Record<string, number[]> & { cpu?: Record<string, [number, number]> };
  if (!direct || !viaEnvd || !viaEnvdJson || !health)
    throw new Error(`unexpected guest output: ${r.stdout.toString()}`);
  printLatencies("posix_spawn + wait of /bin/true", direct, 40, 2);
  printLatencies("envd Start of /bin/true → end of stream", viaEnvd, 40, 2);
  printLatencies("  the same, JSON-encoded", viaEnvdJson, 40, 2);
  printLatencies("envd GET /health (HTTP floor)", health, 40, 2);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const p50 = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`overhead p50: ${(p50(viaEnvd) - p50(direct)).toFixed(2)} ms (goal ≤ 10 ms under TCG)`);
  for (const [name, [envdMs, spawnerMs]] of Object.entries(cpu ?? {})) {
    console.log(`CPU per ${name.padEnd(10)}: envd ${envdMs.toFixed(1)} ms, wrenn-spawner ${spawnerMs.toFixed(1)} ms`);
  }
} finally {
  await manager.shutdown({ destroyAll: true });
  await rm(root, { recursive: true, force: true });
}
