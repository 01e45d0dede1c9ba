import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import type { TransportFactory } from "../agents/agent-pool.ts";

type Info = hostagent.CapsuleInfo;

const jitter = (maxMs: number) => new Promise((r) => setTimeout(r, Math.random() * maxMs));

/**
 * An in-memory HostAgentService for route tests (never for end-to-end tests). Commands are
 * interpreted, not run: `echo A B` prints its args, `binary` prints non-UTF-8 bytes, `fail N`
 * exits N with stderr, `sleep` waits until aborted. Files live in a Map.
 */
export class FakeAgent {
  readonly capsules = new Map<string, Info>();
  readonly files = new Map<string, Uint8Array>();
  readonly processes = new Map<number, { tag: string; cmd: string; args: string[] }>();
  readonly ptyInput: Buffer[] = [];
  readonly calls: string[] = [];
  readonly autoPaused: string[] = [];
  /** When set, CreateCapsule fails with this error. */
  createError?: ConnectError;
  /** When set, PauseCapsule fails with this error, leaving the capsule in `pauseErrorLeaves` (default running). */
  pauseError?: ConnectError;
  pauseErrorLeaves?: "running" | "paused" | "gone";
  /** When set, ResumeCapsule fails with this error, leaving the capsule in `resumeErrorLeaves` (default paused). */
  resumeError?: ConnectError;
  resumeErrorLeaves?: "running" | "paused";
  /** When set, CreateSnapshot fails with this error (the capsule keeps its state). */
  snapshotError?: ConnectError;
  /** When set, DeleteSnapshot fails with this error. */
  deleteSnapshotError?: ConnectError;
  /** Templates made by CreateSnapshot, keyed `team/name`. */
  readonly snapshots = new Map<string, { capsuleId: string; vcpus: number; memoryMb: number }>();
  /** Every CreateCapsule request, in order. */
  readonly createRequests: hostagent.CreateCapsuleRequest[] = [];
  /** Points FlushCapsuleMetrics returns (one per tier), so tests can see them stored. */
  flushPoints = 1;
  /** When true, every RPC fails with Unavailable (an agent that is down). */
  down = false;
  /** Random delay (0..jitterMs) before and after each call, to widen races in concurrency tests. */
  jitterMs = 0;
  /** Last Authorization header seen. */
  lastAuth?: string;
  private nextPid = 100;

  private check(name: string, capsuleId?: string, ctx?: { requestHeader: Headers }) {
    this.calls.push(name);
    this.lastAuth = ctx?.requestHeader.get("authorization") ?? undefined;
    if (this.down) throw new ConnectError("agent down", Code.Unavailable);
    if (capsuleId !== undefined && !this.capsules.has(capsuleId))
      throw new ConnectError(`capsule ${capsuleId} not found`, Code.NotFound);
  }

  private run(cmd: string, args: string[]): { stdout: Uint8Array; stderr: Uint8Array; exitCode: number } {
    const enc = (s: string) => new TextEncoder().encode(s);
    if (cmd === "echo") return { stdout: enc(`${args.join(" ")}\n`), stderr: new Uint8Array(), exitCode: 0 };
    if (cmd === "binary")
      return { stdout: new Uint8Array([0xff, 0xfe, 0x00, 0x80]), stderr: new Uint8Array(), exitCode: 0 };
    if (cmd === "fail") return { stdout: new Uint8Array(), stderr: enc("failed\n"), exitCode: Number(args[0] ?? 1) };
    if (cmd === "env") return { stdout: enc(JSON.stringify(args)), stderr: new Uint8Array(), exitCode: 0 };
    return { stdout: new Uint8Array(), stderr: enc(`${cmd}: not found\n`), exitCode: 127 };
  }

  /** The service implementation. */
  impl(): ServiceImpl<typeof hostagent.HostAgentService> {
    const info = (id: string) => this.capsules.get(id)!;
    const self = this;
    return {
      getHostInfo: (_r, ctx) => {
        this.check("getHostInfo", undefined, ctx);
        return {
          agentVersion: "fake",
          accelerator: "tcg",
          templates: ["minimal"],
          runningCapsules: this.capsules.size,
        };
      },
      createCapsule: (r, ctx) => {
        this.check("createCapsule", undefined, ctx);
        this.createRequests.push(r);
        if (this.createError) throw this.createError;
        if (!["minimal", "python", "node"].includes(r.template) && !this.snapshots.has(`${r.teamId}/${r.template}`))
          throw new ConnectError(`template ${r.template} is not on this host`, Code.NotFound);
        const c = create(hostagent.CapsuleInfoSchema, {
          capsuleId: r.capsuleId,
          status: hostagent.CapsuleStatus.RUNNING,
          teamId: r.teamId,
          template: r.template,
          vcpus: r.vcpus,
          memoryMb: r.memoryMb,
          timeoutSec: r.timeoutSec,
          hostIp: "127.0.0.1:40000",
          metadata: { agent_version: "fake", envd_version: "fake" },
        });
        this.capsules.set(r.capsuleId, c);
        return { capsule: c };
      },
      destroyCapsule: (r, ctx) => {
        this.check("destroyCapsule", r.capsuleId, ctx);
        this.capsules.delete(r.capsuleId);
        return {};
      },
      pauseCapsule: (r, ctx) => {
        this.check("pauseCapsule", r.capsuleId, ctx);
        if (info(r.capsuleId).status !== hostagent.CapsuleStatus.RUNNING)
          throw new ConnectError("capsule is not running", Code.FailedPrecondition);
        if (this.pauseError) {
          const leaves = this.pauseErrorLeaves ?? "running";
          if (leaves === "gone") this.capsules.delete(r.capsuleId);
          if (leaves === "paused") info(r.capsuleId).status = hostagent.CapsuleStatus.PAUSED;
          throw this.pauseError;
        }
        info(r.capsuleId).status = hostagent.CapsuleStatus.PAUSED;
        info(r.capsuleId).statusReason = r.reason;
        return { capsule: info(r.capsuleId) };
      },
      resumeCapsule: (r, ctx) => {
        this.check("resumeCapsule", r.capsuleId, ctx);
        if (info(r.capsuleId).status !== hostagent.CapsuleStatus.PAUSED)
          throw new ConnectError("capsule is not paused", Code.FailedPrecondition);
        if (this.resumeError) {
          if (this.resumeErrorLeaves === "running") {
            info(r.capsuleId).status = hostagent.CapsuleStatus.RUNNING;
            info(r.capsuleId).hostIp = "127.0.0.1:40002";
          }
          throw this.resumeError;
        }
        info(r.capsuleId).status = hostagent.CapsuleStatus.RUNNING;
        info(r.capsuleId).hostIp = "127.0.0.1:40001";
        return { capsule: info(r.capsuleId) };
      },
      pingCapsule: (r, ctx) => {
        this.check("pingCapsule", r.capsuleId, ctx);
        return {};
      },
      listCapsules: (_r, ctx) => {
        this.check("listCapsules", undefined, ctx);
        const auto = this.autoPaused.splice(0);
        return { capsules: [...this.capsules.values()], autoPausedCapsuleIds: auto };
      },
      exec: (r, ctx) => {
        this.check("exec", r.capsuleId, ctx);
        if (r.cmd === "sleep") throw new ConnectError("command timed out", Code.DeadlineExceeded);
        if (r.cmd === "printenv") {
          return {
            stdout: new TextEncoder().encode(JSON.stringify({ envs: r.envs, cwd: r.cwd })),
            exitCode: 0,
            durationMs: 1n,
          };
        }
        return { ...this.run(r.cmd, r.args), durationMs: 3n };
      },
      execStream: async function* (r, ctx) {
        self.check("execStream", r.capsuleId, ctx);
        yield { event: { event: { case: "start", value: { pid: 42 } } } };
        if (r.cmd === "sleep") {
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
          return;
        }
        const out = self.run(r.cmd, r.args);
        if (out.stdout.length) yield { event: { event: { case: "stdout", value: out.stdout } } };
        if (out.stderr.length) yield { event: { event: { case: "stderr", value: out.stderr } } };
        yield { event: { event: { case: "end", value: { exitCode: out.exitCode } } } };
      },
      startBackground: (r, ctx) => {
        this.check("startBackground", r.capsuleId, ctx);
        const pid = this.nextPid++;
        this.processes.set(pid, { tag: r.tag, cmd: r.cmd, args: r.args });
        return { pid, tag: r.tag };
      },
      listProcesses: (r, ctx) => {
        this.check("listProcesses", r.capsuleId, ctx);
        return { processes: [...this.processes].map(([pid, p]) => ({ pid, ...p })) };
      },
      killProcess: (r, ctx) => {
        this.check("killProcess", r.capsuleId, ctx);
        const sel = r.selector?.selector;
        const pid =
          sel?.case === "pid"
            ? sel.value
            : [...this.processes].find(([, p]) => sel?.case === "tag" && p.tag === sel.value)?.[0];
        if (pid === undefined || !this.processes.delete(pid)) throw new ConnectError("no such process", Code.NotFound);
        return {};
      },
      connectProcess: async function* (r, ctx) {
        self.check("connectProcess", r.capsuleId, ctx);
        const sel = r.selector?.selector;
        const entry = [...self.processes].find(([pid, p]) =>
          sel?.case === "pid" ? pid === sel.value : p.tag === sel?.value,
        );
        if (!entry) throw new ConnectError("no such process", Code.NotFound);
        yield { event: { event: { case: "start", value: { pid: entry[0] } } } };
        yield { event: { event: { case: "stdout", value: new TextEncoder().encode(`attached ${entry[1].tag}\n`) } } };
        yield { event: { event: { case: "end", value: { exitCode: 0 } } } };
      },
      ptyAttach: async function* (r, ctx) {
        self.check("ptyAttach", r.capsuleId, ctx);
        yield { event: { case: "started", value: { pid: 7, tag: r.tag } } };
        yield { event: { case: "output", value: new TextEncoder().encode(`$ ${r.cmd || "reattached"}\r\n`) } };
        // Echo input back as output until the client goes away or kills the PTY.
        for (let i = 0; i < 1000 && !ctx.signal.aborted; i++) {
          const next = await new Promise<Buffer | "kill" | undefined>((resolve) => {
            const t = setInterval(() => {
              const d = self.ptyInput.shift();
              if (d) {
                clearInterval(t);
                resolve(d.toString() === "\u0000KILL" ? "kill" : d);
              }
            }, 5);
            ctx.signal.addEventListener("abort", () => {
              clearInterval(t);
              resolve(undefined);
            });
          });
          if (next === undefined) return;
          if (next === "kill") {
            yield { event: { case: "exited", value: { exitCode: 137 } } };
            return;
          }
          yield { event: { case: "output", value: next } };
        }
      },
      ptySendInput: (r, ctx) => {
        this.check("ptySendInput", r.capsuleId, ctx);
        this.ptyInput.push(Buffer.from(r.data));
        return {};
      },
      ptyResize: (r, ctx) => {
        this.check(`ptyResize:${r.cols}x${r.rows}`, r.capsuleId, ctx);
        return {};
      },
      ptyKill: (r, ctx) => {
        this.check("ptyKill", r.capsuleId, ctx);
        this.ptyInput.push(Buffer.from("\u0000KILL"));
        return {};
      },
      writeFile: (r, ctx) => {
        this.check("writeFile", r.capsuleId, ctx);
        this.files.set(r.path, r.content);
        return {};
      },
      readFile: (r, ctx) => {
        this.check("readFile", r.capsuleId, ctx);
        const f = this.files.get(r.path);
        if (!f) throw new ConnectError(`${r.path} not found`, Code.NotFound);
        return { content: f };
      },
      writeFileStream: async (reqs, ctx) => {
        let path = "";
        const chunks: Uint8Array[] = [];
        let n = 0;
        for await (const m of reqs) {
          if (m.content.case === "meta") {
            this.check("writeFileStream", m.content.value.capsuleId, ctx);
            path = m.content.value.path;
          } else if (m.content.case === "chunk") {
            if (m.content.value.length > 64 * 1024) throw new ConnectError("chunk too big", Code.InvalidArgument);
            chunks.push(m.content.value);
            n += m.content.value.length;
          }
        }
        this.files.set(path, Buffer.concat(chunks));
        return { bytesWritten: BigInt(n) };
      },
      readFileStream: async function* (r, ctx) {
        self.check("readFileStream", r.capsuleId, ctx);
        const f = self.files.get(r.path);
        if (!f) throw new ConnectError(`${r.path} not found`, Code.NotFound);
        for (let o = 0; o < f.length; o += 65536) yield { chunk: f.subarray(o, o + 65536) };
      },
      listDir: (r, ctx) => {
        this.check("listDir", r.capsuleId, ctx);
        const entries = [...this.files.keys()]
          .filter((p) => p.startsWith(r.path))
          .map((p) => ({
            name: p.split("/").pop()!,
            path: p,
            type: "file",
            size: BigInt(this.files.get(p)!.length),
            mode: 0o644,
            permissions: "-rw-r--r--",
            owner: "root",
            group: "root",
            modifiedAt: 1700000000n,
          }));
        return { entries };
      },
      makeDir: (r, ctx) => {
        this.check("makeDir", r.capsuleId, ctx);
        return {
          entry: {
            name: r.path.split("/").pop()!,
            path: r.path,
            type: "directory",
            mode: 0o755,
            permissions: "drwxr-xr-x",
            owner: "root",
            group: "root",
          },
        };
      },
      removePath: (r, ctx) => {
        this.check("removePath", r.capsuleId, ctx);
        if (!this.files.delete(r.path)) throw new ConnectError(`${r.path} not found`, Code.NotFound);
        return {};
      },
      createSnapshot: (r, ctx) => {
        this.check("createSnapshot", r.capsuleId, ctx);
        if (this.snapshotError) throw this.snapshotError;
        const key = `${r.teamId}/${r.name}`;
        if (this.snapshots.has(key) && !r.overwrite)
          throw new ConnectError(`template ${r.name} exists`, Code.AlreadyExists);
        const c = info(r.capsuleId);
        this.snapshots.set(key, { capsuleId: r.capsuleId, vcpus: c.vcpus, memoryMb: c.memoryMb });
        // Like the reference, the source is left paused.
        c.status = hostagent.CapsuleStatus.PAUSED;
        return { name: r.name, sizeBytes: 123_456_789n, vcpus: c.vcpus, memoryMb: c.memoryMb, capsule: c };
      },
      deleteSnapshot: (r, ctx) => {
        this.check("deleteSnapshot", undefined, ctx);
        if (this.deleteSnapshotError) throw this.deleteSnapshotError;
        if (!this.snapshots.delete(`${r.teamId}/${r.name}`))
          throw new ConnectError(`template ${r.name} not found`, Code.NotFound);
        return {};
      },
      getCapsuleMetrics: (r, ctx) => {
        this.check("getCapsuleMetrics", r.capsuleId, ctx);
        return { points: [] };
      },
      flushCapsuleMetrics: (r, ctx) => {
        this.check("flushCapsuleMetrics", r.capsuleId, ctx);
        const ts = BigInt(Math.floor(Date.now() / 1000));
        const pts = Array.from({ length: this.flushPoints }, (_, i) => ({
          timestampUnix: ts - BigInt(i),
          cpuPct: 12.5,
          memBytes: 1n << 20n,
          diskBytes: 4096n,
        }));
        return { points10m: pts, points2h: pts, points24h: pts };
      },
      terminate: (_r, ctx) => {
        this.check("terminate", undefined, ctx);
        this.capsules.clear();
        return {};
      },
    };
  }
}

/** Fake agents by host address; the pool's transport factory routes each host to its fake. */
export class FakeAgentFleet {
  private readonly agents = new Map<string, FakeAgent>();

  /** The fake agent serving `address` (created on first use). */
  at(address: string): FakeAgent {
    let a = this.agents.get(address);
    if (!a) {
      a = new FakeAgent();
      this.agents.set(address, a);
    }
    return a;
  }

  /** A TransportFactory for `new AgentPool(...)`, with the Authorization header set like the real one. */
  readonly factory: TransportFactory = (target) => {
    const agent = this.at(target.address);
    const transport = createRouterTransport(({ service }) => service(hostagent.HostAgentService, agent.impl()), {
      transport: {
        interceptors: [
          (next) => async (req) => {
            if (target.agentKey) req.header.set("Authorization", `Bearer ${target.agentKey}`);
            if (agent.jitterMs === 0) return next(req);
            await jitter(agent.jitterMs);
            const res = await next(req);
            await jitter(agent.jitterMs);
            return res;
          },
        ],
      },
    });
    return { transport };
  };
}
