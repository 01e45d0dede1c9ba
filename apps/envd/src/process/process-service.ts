import type { ServiceImpl } from "@connectrpc/connect";
import { process as pb } from "@wrenn/protocol";
import { asConnect, errors } from "../errors.ts";
import { userFromAuthorization } from "../users.ts";
import { startEvent, toProcessEvent } from "./events.ts";
import type { ProcessManager } from "./process-manager.ts";
import type { Selector } from "./process-table.ts";

/** Parses a wire ProcessSelector; invalid_argument when it names nothing. */
export function toSelector(sel: pb.ProcessSelector | undefined): Selector {
  switch (sel?.selector.case) {
    case "pid":
      return { pid: sel.selector.value };
    case "tag":
      return { tag: sel.selector.value };
    default:
      throw errors.invalidArgument("process selector (pid or tag) is required");
  }
}

function toSignal(signal: pb.Signal): NodeJS.Signals {
  if (signal === pb.Signal.SIGKILL) return "SIGKILL";
  if (signal === pb.Signal.SIGTERM) return "SIGTERM";
  throw errors.invalidArgument(`unsupported signal ${signal}`);
}

/** The Connect `process.Process` service over a ProcessManager. */
export function createProcessService(manager: ProcessManager): ServiceImpl<typeof pb.Process> {
  const { table } = manager;
  return {
    async list() {
      return {
        processes: table.list().map((h) => ({
          pid: h.pid,
          tag: h.tag,
          config: {
            cmd: h.description.cmd,
            args: h.description.args,
            envs: h.description.envs,
            cwd: h.description.cwd,
          },
        })),
      };
    },

    async *start(req, ctx) {
      const proc = req.process;
      const size = req.pty?.size;
      const { handle, subscription } = await asConnect(() =>
        manager.start({
          cmd: proc?.cmd ?? "",
          args: proc?.args ?? [],
          envs: proc?.envs ?? {},
          cwd: proc?.cwd,
          pty: req.pty ? { cols: size?.cols || 80, rows: size?.rows || 24 } : undefined,
          tag: req.tag,
          stdin: req.stdin ?? true,
          user: userFromAuthorization(ctx.requestHeader.get("authorization")),
          signal: ctx.signal,
        }),
      );
      yield { event: startEvent(handle.pid) };
      for await (const ev of subscription) yield { event: toProcessEvent(ev) };
    },

    async *connect(req, ctx) {
      const handle = await asConnect(async () => table.get(toSelector(req.process)));
      const subscription = handle.subscribe(ctx.signal);
      yield { event: startEvent(handle.pid) };
      for await (const ev of subscription) yield { event: toProcessEvent(ev) };
    },

    async update(req) {
      return asConnect(async () => {
        const handle = table.get(toSelector(req.process));
        const size = req.pty?.size;
        if (size) handle.io.resize(size.cols, size.rows);
        return {};
      });
    },

    async sendInput(req) {
      return asConnect(async () => {
        const handle = table.get(toSelector(req.process));
        const input = req.input?.input;
        if (!input?.case) return {};
        await handle.io.write(Buffer.from(input.value));
        return {};
      });
    },

    async streamInput(requests) {
      return asConnect(async () => {
        let handle: ReturnType<typeof table.get> | undefined;
        for await (const req of requests) {
          const ev = req.event;
          if (ev.case === "start") handle = table.get(toSelector(ev.value.process));
          else if (ev.case === "data") {
            if (!handle) throw errors.failedPrecondition("StreamInput: data before start");
            const input = ev.value.input?.input;
            if (input?.case) await handle.io.write(Buffer.from(input.value));
          }
        }
        return {};
      });
    },

    async sendSignal(req) {
      return asConnect(async () => {
        manager.signal(toSelector(req.process), toSignal(req.signal));
        return {};
      });
    },

    async closeStdin(req) {
      return asConnect(async () => {
        table.get(toSelector(req.process)).io.closeStdin();
        return {};
      });
    },
  };
}
