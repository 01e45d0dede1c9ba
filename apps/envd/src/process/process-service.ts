import type { ServiceImpl } from "@connectrpc/connect";
import { type PushStreamCall, pushAsGenerator } from "@wrenn/connect-unary";
import { process as pb } from "@wrenn/protocol";
import { asConnect, EnvdError, errors } from "../errors.ts";
import { userFromAuthorization } from "../users.ts";
import { type ProcessEventInit, startEvent, toProcessEvent } from "./events.ts";
import type { ProcessHandle } from "./process-handle.ts";
import type { ProcessManager } from "./process-manager.ts";
import type { Selector } from "./process-table.ts";
import type { StartRequestFields } from "./start-request-decoder.ts";
import type { Subscription } from "./subscription.ts";

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

/** What Start and Connect stream: `{ event }` of a StartResponse / ConnectResponse. */
type ProcessStreamCall = PushStreamCall<{ event: ProcessEventInit }>;

/**
 * Streams a process to one caller: the start event, then its output as it comes and the end. Output waits in the
 * subscription while the caller is not keeping up; a caller that leaves detaches (the process keeps running).
 */
function streamProcess(handle: ProcessHandle, subscription: Subscription, call: ProcessStreamCall): void {
  if (call.isDone) {
    subscription.close();
    return;
  }
  call.onCancel(() => subscription.close());
  call.onDrain(() => subscription.resume());
  call.send({ event: startEvent(handle.pid) });
  subscription.consume({
    event: (ev) => call.send({ event: toProcessEvent(ev) }),
    closed: (failure) => call.end(failure),
  });
}

/** An EnvdError (or anything) as the Connect error a caller sees. */
const connectErrorOf = (err: unknown) => EnvdError.from(err).toConnect();

/**
 * Start and Connect as push-style streams (packages/connect-unary `push-stream.ts`): envd's lean path serves them
 * directly, connect-es through `pushAsGenerator`.
 */
export function createProcessStreams(manager: ProcessManager) {
  const { table } = manager;
  return {
    start(req: StartRequestFields, call: ProcessStreamCall): void {
      const proc = req.process;
      const size = req.pty?.size;
      manager
        .start({
          cmd: proc?.cmd ?? "",
          args: proc?.args ?? [],
          envs: proc?.envs ?? {},
          cwd: proc?.cwd,
          pty: req.pty ? { cols: size?.cols || 80, rows: size?.rows || 24 } : undefined,
          tag: req.tag,
          stdin: req.stdin ?? true,
          user: userFromAuthorization(call.requestHeader.get("authorization")),
        })
        .then(
          ({ handle, subscription }) => streamProcess(handle, subscription, call),
          (err: unknown) => call.end(connectErrorOf(err)),
        );
    },

    connect(req: pb.ConnectRequest, call: ProcessStreamCall): void {
      let handle: ProcessHandle;
      try {
        handle = table.get(toSelector(req.process));
      } catch (err) {
        call.end(connectErrorOf(err));
        return;
      }
      streamProcess(handle, handle.subscribe(), call);
    },
  };
}

/** The Connect `process.Process` service over a ProcessManager. */
export function createProcessService(manager: ProcessManager): ServiceImpl<typeof pb.Process> {
  const { table } = manager;
  const streams = createProcessStreams(manager);
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

    start: pushAsGenerator(streams.start),
    connect: pushAsGenerator(streams.connect),

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
