/** Terminal RPCs over envd PTY processes, addressed by tag. */
import { create } from "@bufbuild/protobuf";
import { process as envdProcess, type hostagent } from "@wrenn/protocol";
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import { errors } from "../errors.ts";

const byTag = (tag: string) => {
  if (!tag) throw errors.invalidArgument("tag is required");
  return create(envdProcess.ProcessSelectorSchema, { selector: { case: "tag", value: tag } });
};

/** Handlers of the PTY RPCs. Attach and input count as activity; resize and kill do not (reference §5). */
export function createPtyRpcs(manager: CapsuleManager) {
  return {
    async *ptyAttach(req: hostagent.PtyAttachRequest, ctx: { signal: AbortSignal }) {
      const envd = manager.get(req.capsuleId, true).envd;
      const stream = req.cmd
        ? envd.process.start(
            {
              process: { cmd: req.cmd, args: req.args, envs: req.envs, cwd: req.cwd || undefined },
              pty: { size: { cols: req.cols || 80, rows: req.rows || 24 } },
              tag: req.tag || undefined,
            },
            { signal: ctx.signal },
          )
        : envd.process.connect({ process: byTag(req.tag) }, { signal: ctx.signal });
      for await (const res of stream) {
        const ev = res.event?.event;
        if (ev?.case === "start")
          yield { event: { case: "started" as const, value: { pid: ev.value.pid, tag: req.tag } } };
        else if (ev?.case === "data" && ev.value.output.value) {
          yield { event: { case: "output" as const, value: ev.value.output.value } };
        } else if (ev?.case === "end") {
          yield {
            event: { case: "exited" as const, value: { exitCode: ev.value.exitCode, error: ev.value.error ?? "" } },
          };
        }
      }
    },
    async ptySendInput(req: hostagent.PtySendInputRequest) {
      const envd = manager.get(req.capsuleId, true).envd;
      await envd.process.sendInput(
        { process: byTag(req.tag), input: { input: { case: "pty", value: req.data } } },
        { timeoutMs: 10_000 },
      );
      return {};
    },
    async ptyResize(req: hostagent.PtyResizeRequest) {
      const envd = manager.get(req.capsuleId).envd;
      await envd.process.update(
        { process: byTag(req.tag), pty: { size: { cols: req.cols, rows: req.rows } } },
        { timeoutMs: 10_000 },
      );
      return {};
    },
    async ptyKill(req: hostagent.PtyKillRequest) {
      const envd = manager.get(req.capsuleId).envd;
      await envd.process.sendSignal(
        { process: byTag(req.tag), signal: envdProcess.Signal.SIGKILL },
        { timeoutMs: 10_000 },
      );
      return {};
    },
  };
}
