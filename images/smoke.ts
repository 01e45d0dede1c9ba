/**
 * Boots a built template under QEMU TCG and drives envd in it: the end-to-end check of images/.
 *   node --import tsx images/smoke.ts [--root DIR] [--template minimal] [--memory-mb 512] [--timeout-s 180] [--append "ro"]
 * Prints boot-to-health time and the output of `uname -r` and `python3 -c 'print(6*7)'` run through
 * envd's Connect API (process.Process/Start). Exit 0 when both answered as expected.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { process as envdProcess } from "@wrenn/protocol";
import { hostLayout } from "./src/host-layout.ts";
import { runCommand } from "./src/run-command.ts";
import { freePort, hostTscKhz, SmokeVm } from "./src/smoke-vm.ts";

const { values } = parseArgs({
  options: {
    root: { type: "string" },
    template: { type: "string", default: "minimal" },
    "memory-mb": { type: "string", default: "512" },
    "timeout-s": { type: "string", default: "180" },
    append: { type: "string", default: "" },
  },
});
const layout = hostLayout(values.root ?? process.env.AGENT_FILES_ROOTDIR ?? "/var/lib/wrenn");
const timeoutMs = Number(values["timeout-s"]) * 1000;
const elapsed = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(2)}s`;

/** Polls GET /health until it answers 200, QEMU dies, or the deadline passes. */
async function waitHealthy(vm: SmokeVm, url: string, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    if (!vm.isRunning) throw new Error(`QEMU exited before envd answered: ${vm.stderr}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`envd did not answer ${url} within ${timeoutMs / 1000}s`);
}

/** Runs one command through envd and returns its stdout and exit code. */
async function exec(client: ReturnType<typeof createClient<typeof envdProcess.Process>>, cmd: string, args: string[]) {
  let stdout = "";
  let exitCode: number | undefined;
  for await (const res of client.start({ process: { cmd, args, envs: {} } }, { timeoutMs: 120_000 })) {
    const ev = res.event?.event;
    if (ev?.case === "data" && ev.value.output.case === "stdout")
      stdout += Buffer.from(ev.value.output.value).toString();
    if (ev?.case === "end") exitCode = ev.value.exitCode;
  }
  return { stdout: stdout.trim(), exitCode };
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-smoke-"));
  let vm: SmokeVm | undefined;
  const consoleLog = join(dir, "console.log");
  try {
    const overlay = join(dir, "overlay.qcow2");
    await runCommand("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      layout.rootfs(values.template),
      "-F",
      "raw",
      overlay,
    ]);
    const hostPort = await freePort();
    const tscKhz = await hostTscKhz();
    console.log(`booting ${values.template} (tsc ${tscKhz} kHz, envd on 127.0.0.1:${hostPort}, console ${consoleLog})`);
    const t0 = performance.now();
    vm = new SmokeVm({
      kernelsDir: layout.kernelsDir,
      overlay,
      consoleLog,
      hostPort,
      tscKhz,
      memoryMb: Number(values["memory-mb"]),
      appendExtra: values.append,
    });
    const base = `http://127.0.0.1:${hostPort}`;
    await waitHealthy(vm, `${base}/health`, t0 + timeoutMs);
    console.log(`boot to /health: ${elapsed(t0)}`);
    const client = createClient(
      envdProcess.Process,
      createConnectTransport({ baseUrl: base, httpVersion: "1.1", useBinaryFormat: false }),
    );
    const release = (await readFile(layout.release, "utf8")).trim();
    const mounts = [
      "proc /proc",
      "sysfs /sys",
      "devtmpfs /dev",
      "devpts /dev/pts",
      "/dev/shm tmpfs",
      "/run tmpfs",
      "/tmp tmpfs",
      "cgroup2 /sys/fs/cgroup",
    ];
    const checks: Array<[string, string[], (out: string) => boolean]> = [
      ["uname", ["-r"], (out) => out === release],
      ["python3", ["-c", "print(6*7)"], (out) => out === "42"],
      ["cat", ["/proc/sys/kernel/hostname"], (out) => out === "capsule"],
      ["sh", ["-c", "head -c 64 /dev/urandom | wrenn-reseed && echo reseeded"], (out) => out === "reseeded"],
      [
        "sh",
        ["-c", "ip -4 -o addr show eth0; ip route show default"],
        (out) => out.includes("10.0.2.15/24") && out.includes("via 10.0.2.2"),
      ],
      [
        "sh",
        ["-c", "while read -r s m t o; do echo $s $m $t; done </proc/mounts"],
        (out) => mounts.every((m) => m.split(" ").every((w) => out.includes(w))),
      ],
    ];
    // wrenn-init writes resolv.conf from wrenn.dns= (a read-only root keeps the image's 10.0.2.3).
    const appended = values.append.split(/\s+/);
    const dnsArg = appended.find((a) => a.startsWith("wrenn.dns="))?.slice("wrenn.dns=".length);
    const dns = appended.includes("ro") ? "10.0.2.3" : (dnsArg ?? "10.0.2.3");
    checks.push(["cat", ["/etc/resolv.conf"], (out) => out === `nameserver ${dns}`]);
    if (values.template === "python")
      checks.push(["python3", ["-m", "pip", "--version"], (out) => out.startsWith("pip ")]);
    if (values.template === "node") {
      checks.push(["node", ["-e", "console.log(6*7)"], (out) => out === "42"]);
      checks.push(["npm", ["--version"], (out) => /^\d+\.\d+/.test(out)]);
    }
    let failed = false;
    for (const [cmd, args, check] of checks) {
      const t1 = performance.now();
      const r = await exec(client, cmd, args);
      const ok = r.exitCode === 0 && check(r.stdout);
      failed ||= !ok;
      const shown =
        ok && r.stdout.length > 60
          ? `${r.stdout.slice(0, 60).replaceAll("\n", " | ")}…`
          : r.stdout.replaceAll("\n", " | ");
      console.log(
        `${ok ? "ok " : "BAD"} ${cmd} ${args.join(" ")} -> ${JSON.stringify(shown)} (exit ${r.exitCode}, ${elapsed(t1)})`,
      );
    }
    return failed ? 1 : 0;
  } catch (err) {
    console.error(`smoke failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await vm?.stop();
    const log = await readFile(consoleLog, "utf8").catch(() => "");
    console.log(`--- console (last 15 lines) ---\n${log.trimEnd().split("\n").slice(-15).join("\n")}`);
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
