/**
 * envd's overhead on a command measured inside a real capsule VM (issue 3: ≤ 10 ms under TCG), both sides in the
 * guest: a python3 client in the guest sends envd `process.Start` of /bin/true over loopback (Connect protocol,
 * binary protobuf as the agent sends it; JSON beside it) and times request → end of stream, and times `posix_spawn` + `waitpid` of /bin/true on its own.
 * Overhead = p50 of the first minus p50 of the second; GET /health shows the HTTP round trip alone. Runs the agent's capsule manager in-process (QEMU, TCG here).
 * Usage: node --import tsx bench/envd-overhead-guest.ts [--runs 100]   (root; images built)
 */
import { readFile, rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { execInGuest } from "../apps/host-agent/src/envd-client/exec.ts";
import { startBenchAgent } from "./bench-agent.ts";
import { printLatencies } from "./percentiles.ts";

const { values } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(values.runs ?? 100);

/** The in-guest client: prints one JSON line {direct, envd, health: [ms...]}. */
const GUEST_SCRIPT = `
import http.client, json, os, struct, sys, time
runs, token = int(sys.argv[1]), sys.argv[2]
def start_request(binary):
    # StartRequest{process: ProcessConfig{cmd: "/bin/true"}}, as protobuf (what the agent sends) or JSON.
    if binary:
        cmd = b"/bin/true"
        config = b"\\x0a" + bytes([len(cmd)]) + cmd
        msg, ctype = b"\\x0a" + bytes([len(config)]) + config, "application/connect+proto"
    else:
        msg, ctype = json.dumps({"process": {"cmd": "/bin/true"}}).encode(), "application/connect+json"
    headers = {"Content-Type": ctype, "Connect-Protocol-Version": "1", "X-Access-Token": token}
    return struct.pack(">BI", 0, len(msg)) + msg, headers
requests = {True: start_request(True), False: start_request(False)}
conn = http.client.HTTPConnection("127.0.0.1", 49983)
def via_envd(binary):
    frame, headers = requests[binary]
    t = time.perf_counter()
    conn.request("POST", "/process.Process/Start", body=frame, headers=headers)
    data = conn.getresponse().read()
    ms = (time.perf_counter() - t) * 1000
    # The stream must end cleanly: its last envelope is the end-of-stream flag (2) with "{}" (no error).
    last = data.rfind(b"\\x02\\x00\\x00\\x00\\x02{}")
    if last < 0 or last + 7 != len(data): raise SystemExit("stream did not end cleanly: %r" % data[-300:])
    if not binary and b'"end"' not in data: raise SystemExit("no end event: %r" % data[:300])
    return ms
def direct():
    t = time.perf_counter()
    pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
    os.waitpid(pid, 0)
    return (time.perf_counter() - t) * 1000
def health():
    t = time.perf_counter()
    conn.request("GET", "/health")
    conn.getresponse().read()
    return (time.perf_counter() - t) * 1000
for _ in range(10): via_envd(True); via_envd(False); direct(); health()
out = {"direct": [], "envd": [], "envd_json": [], "health": []}
for _ in range(runs):
    out["direct"].append(direct())
    out["envd"].append(via_envd(True))
    out["envd_json"].append(via_envd(False))
    out["health"].append(health())
print(json.dumps(out))
`;

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
  const r = await execInGuest(envd, "python3", {
    args: ["-c", GUEST_SCRIPT, String(RUNS), accessToken],
    timeoutMs: 600_000,
  });
  if (r.exitCode !== 0) throw new Error(`guest client failed: ${r.stderr.toString()}`);
  const {
    direct,
    envd: viaEnvd,
    envd_json: viaEnvdJson,
    health,
  } = JSON.parse(r.stdout.toString()) as Record<string, number[]>;
  if (!direct || !viaEnvd || !viaEnvdJson || !health)
    throw new Error(`unexpected guest output: ${r.stdout.toString()}`);
  printLatencies("posix_spawn + wait of /bin/true", direct, 40, 2);
  printLatencies("envd Start of /bin/true → end of stream", viaEnvd, 40, 2);
  printLatencies("  the same, JSON-encoded", viaEnvdJson, 40, 2);
  printLatencies("envd GET /health (HTTP floor)", health, 40, 2);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const p50 = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`overhead p50: ${(p50(viaEnvd) - p50(direct)).toFixed(2)} ms (goal ≤ 10 ms under TCG)`);
} finally {
  await manager.shutdown({ destroyAll: true });
  await rm(root, { recursive: true, force: true });
}
