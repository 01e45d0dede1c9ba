/** Process RPCs, forwarded to the capsule's envd process service. Every one counts as capsule activity. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { process as envdProcess, type hostagent } from "@wrenn/protocol";
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import { execInGuest } from "../envd-client/exec.ts";
import { errors } from "../errors.ts";
import { guestCommand } from "./guest-command.ts";

type StreamEventInit = MessageInitShape<typeof hostagent.ProcessStreamEventSchema>;

/** envd's ProcessEvent as the agent's ProcessStreamEvent (keepalives dropped). */
export function toStreamEvent(ev: envdProcess.ProcessEvent | undefined): StreamEventInit | undefined {
  const e = ev?.event;
  if (!e) return undefined;
  switch (e.case) {
    case "start":
      return { event: { case: "start", value: { pid: e.value.pid } } };
    case "data": {
      const out = e.value.output;
      if (out.case === "stderr") return { event: { case: "stderr", value: out.value } };
      if (out.case === "stdout" || out.case === "pty") return { event: { case: "stdout", value: out.value } };
      return undefined;
    }
    case "end":
      return { event: { case: "end", value: { exitCode: e.value.exitCode, error: e.value.error ?? "" } } };
    default:
      return undefined;
  }
}

/** Wire selector → envd selector. */
export function toEnvdSelector(sel: hostagent.ProcessSelector | undefined) {
  const s = sel?.selector;
  if (s?.case === "pid")
    return create(envdProcess.ProcessSelectorSchema, { selector: { case: "pid", value: s.value } });
  if (s?.case === "tag")
    return create(envdProcess.ProcessSelectorSchema, { selector: { case: "tag", value: s.value } });
  throw errors.invalidArgument("a process selector (pid or tag) is required");
}

/** Handlers of the process RPCs. */
export function createProcessRpcs(manager: CapsuleManager) {
  return {
    async exec(req: hostagent.ExecRequest, ctx: { signal: AbortSignal }) {
      const capsule = manager.get(req.capsuleId, true);
      const { cmd, args } = guestCommand(req.cmd, req.args);
      const r = await execInGuest(capsule.envd, cmd, {
        args,
        envs: req.envs,
        cwd: req.cwd,
        stdin: req.stdin.length > 0 ? req.stdin : undefined,
        timeoutMs: (req.timeoutSec || 30) * 1000,
        signal: ctx.signal,
      });
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, durationMs: BigInt(r.durationMs) };
    },

    async *execStream(req: hostagent.ExecStreamRequest, ctx: { signal: AbortSignal }) {
      const capsule = manager.get(req.capsuleId, true);
      const { cmd, args } = guestCommand(req.cmd, req.args);
      const signal =
        req.timeoutSec > 0 ? AbortSignal.any([ctx.signal, AbortSignal.timeout(req.timeoutSec * 1000)]) : ctx.signal;
      const stream = capsule.envd.process.start(
        { process: { cmd, args, envs: req.envs, cwd: req.cwd || undefined }, stdin: false },
        { signal },
      );
      for await (const res of stream) {
        const event = toStreamEvent(res.event);
        if (event) yield { event };
      }
    },

    async startBackground(req: hostagent.StartBackgroundRequest) {
      const capsule = manager.get(req.capsuleId, true);
      const { cmd, args } = guestCommand(req.cmd, req.args);
      const controller = new AbortController();
      const stream = capsule.envd.process.start(
        { process: { cmd, args, envs: req.envs, cwd: req.cwd || undefined }, tag: req.tag || undefined, stdin: false },
        { signal: controller.signal },
      );
      // Read until the start event, then hang up: the process keeps running inside the guest.
      try {
        for await (const res of stream) {
          const ev = res.event?.event;
          if (ev?.case === "start") return { pid: ev.value.pid, tag: req.tag };
          if (ev?.case === "end")
            throw errors.guest(`starting ${req.cmd}`, ev.value.error ?? `exited ${ev.value.exitCode}`);
        }
        throw errors.guest(`starting ${req.cmd}`, "envd ended the stream before the process started");
      } finally {
        controller.abort();
      }
    },

    async listProcesses(req: hostagent.ListProcessesRequest) {
      const capsule = manager.get(req.capsuleId, true);
      const res = await capsule.envd.process.list({}, { timeoutMs: 10_000 });
      return {
        processes: res.processes.map((p) => ({
          pid: p.pid,
          tag: p.tag ?? "",
          cmd: p.config?.cmd ?? "",
          args: p.config?.args ?? [],
        })),
      };
    },

    async killProcess(req: hostagent.KillProcessRequest) {
      const capsule = manager.get(req.capsuleId, true);
      const signal = req.signal === "SIGTERM" ? envdProcess.Signal.SIGTERM : envdProcess.Signal.SIGKILL;
      await capsule.envd.process.sendSignal({ process: toEnvdSelector(req.selector), signal }, { timeoutMs: 10_000 });
      return {};
    },

    async *connectProcess(req: hostagent.ConnectProcessRequest, ctx: { signal: AbortSignal }) {
      const capsule = manager.get(req.capsuleId, true);
      const stream = capsule.envd.process.connect({ process: toEnvdSelector(req.selector) }, { signal: ctx.signal });
      for await (const res of stream) {
        const event = toStreamEvent(res.event);
        if (event) yield { event };
      }
    },
  };
}
