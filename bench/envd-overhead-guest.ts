/**
 * envd's overhead on a command measured inside a real capsule VM (issue 3: ≤ 10 ms under TCG), both sides in the
 * guest: a python3 client in the guest sends envd `process.Start` of /bin/true over loopback (Connect protocol,
 * binary protobuf as the agent sends it; JSON beside it) on a raw keep-alive HTTP/1.1 connection and times request →
 * end of stream, and times `posix_spawn` + `waitpid` of /bin/true on its own.
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
import json, os, socket, struct, sys, time
runs, token = int(sys.argv[1]), sys.argv[2]
# A raw HTTP/1.1 client on one keep-alive connection: http.client's own parsing costs ~2-3 ms of emulated guest
# work per call, which is the client's, not envd's.
sock = socket.create_connection(("127.0.0.1", 49983))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = [b""]
def fill():
    chunk = sock.recv(65536)
    if not chunk: raise SystemExit("envd closed the connection")
    buf[0] += chunk
def take_until(sep):
    while sep not in buf[0]: fill()
    out, buf[0] = buf[0].split(sep, 1)
    return out
def take(n):
    while len(buf[0]) < n: fill()
    out, buf[0] = buf[0][:n], buf[0][n:]
    return out
def response():
    head = take_until(b"\\r\\n\\r\\n").lower().split(b"\\r\\n")
    if b" 200 " not in head[0] + b" ": raise SystemExit("envd answered %r" % head[0])
    fields = dict(line.split(b":", 1) for line in head[1:])
    if b"chunked" not in fields.get(b"transfer-encoding", b""): return take(int(fields.get(b"content-length", b"0")))
    body = b""
    while True:
        n = int(take_until(b"\\r\\n"), 16)
        body += take(n)
        take(2)
        if n == 0: return body
def request(method, path, headers, body=b""):
    lines = "".join("%s: %s\\r\\n" % kv for kv in headers.items())
    return ("%s %s HTTP/1.1\\r\\nHost: envd\\r\\n%sContent-Length: %d\\r\\n\\r\\n" % (method, path, lines, len(body))).encode() + body
def start_request(binary):
    # StartRequest{process: ProcessConfig{cmd: "/bin/true"}, stdin: false}, as the agent sends a foreground command:
    # protobuf (what the agent sends) or JSON.
    if binary:
        cmd = b"/bin/true"
        config = b"\\x0a" + bytes([len(cmd)]) + cmd
        msg, ctype = b"\\x0a" + bytes([len(config)]) + config + b"\\x20\\x00", "application/connect+proto"
    else:
        msg, ctype = json.dumps({"process": {"cmd": "/bin/true"}, "stdin": False}).encode(), "application/connect+json"
    headers = {"Content-Type": ctype, "Connect-Protocol-Version": "1", "X-Access-Token": token}
    return request("POST", "/process.Process/Start", headers, struct.pack(">BI", 0, len(msg)) + msg)
requests = {True: start_request(True), False: start_request(False)}
HEALTH = request("GET", "/health", {})
def via_envd(binary):
    t = time.perf_counter()
    sock.sendall(requests[binary])
    data = response()
    ms = (time.perf_counter() - t) * 1000
    # The stream must end cleanly: its last envelope is the end-of-stream flag (2) with "{}" (no error).
    if not data.endswith(b"\\x02\\x00\\x00\\x00\\x02{}"): raise SystemExit("stream did not end cleanly: %r" % data[-300:])
    if not binary and b'"end"' not in data: raise SystemExit("no end event: %r" % data[:300])
    return ms
def direct():
    t = time.perf_counter()
    pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
    os.waitpid(pid, 0)
    return (time.perf_counter() - t) * 1000
def health():
    t = time.perf_counter()
    sock.sendall(HEALTH)
    response()
    return (time.perf_counter() - t) * 1000
for _ in range(10): via_envd(True); via_envd(False); direct(); health()
out = {"direct": [], "envd": [], "envd_json": [], "health": []}
for _ in range(runs):
    out["direct"].append(direct())
    out["envd"].append(via_envd(True))
    out["envd_json"].append(via_envd(False))
    out["health"].append(health())
# Where the time goes: CPU time (user + system) the guest kernel charged to envd and to wrenn-spawner per call,
# read from /proc/<pid>/stat around a run of one kind of call.
def pid_of(name):
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open("/proc/%s/comm" % p).read().strip() == name: return int(p)
        except OSError: pass
def cpu_ms(pid):
    if pid is None: return 0.0
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
envd_pid, spawner_pid = pid_of("envd"), pid_of("wrenn-spawner")
out["cpu"] = {}
for name, call in (("start", lambda: via_envd(True)), ("start_json", lambda: via_envd(False)), ("health", health)):
    n = max(runs, 50)
    before = (cpu_ms(envd_pid), cpu_ms(spawner_pid))
    for _ in range(n): call()
    out["cpu"][name] = [(cpu_ms(envd_pid) - before[0]) / n, (cpu_ms(spawner_pid) - before[1]) / n]
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
