/**
 * The HostAgentService implementation: the RPC groups put together, every handler wrapped so agent errors leave as
 * Connect errors with the right code.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { hostagent } from "@wrenn/protocol";
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import { errors } from "../errors.ts";
import type { CapsuleMetricsHub } from "../metrics/capsule-metrics-hub.ts";
import { createMetricsRpc } from "../metrics/metrics-rpc.ts";
import { createCapsuleRpcs, type HostFacts } from "./capsule-rpcs.ts";
import { toConnectError } from "./connect-errors.ts";
import { createFileRpcs } from "./file-rpcs.ts";
import { createProcessRpcs } from "./process-rpcs.ts";
import { createPtyRpcs } from "./pty-rpcs.ts";
import { createSnapshotRpcs } from "./snapshot-rpcs.ts";

type Impl = ServiceImpl<typeof hostagent.HostAgentService>;

/** Dependencies of the service. */
export interface ServiceDeps {
  readonly manager: CapsuleManager;
  readonly host: HostFacts;
  readonly metrics: CapsuleMetricsHub | undefined;
  /** Runs after Terminate answered: destroy every capsule and exit. */
  readonly onTerminate: () => void;
}

/** Builds the service implementation. */
export function createHostAgentService(deps: ServiceDeps): Impl {
  const notYet = (what: string) => async () => {
    throw errors.unimplemented(what);
  };
  const metrics = deps.metrics
    ? createMetricsRpc(deps.metrics)
    : { getCapsuleMetrics: notYet("GetCapsuleMetrics"), flushCapsuleMetrics: notYet("FlushCapsuleMetrics") };
  const impl = {
    ...createCapsuleRpcs(deps.manager, deps.host, deps.onTerminate),
    ...createProcessRpcs(deps.manager),
    ...createPtyRpcs(deps.manager),
    ...createFileRpcs(deps.manager),
    ...createSnapshotRpcs(deps.manager),
    ...metrics,
  } as unknown as Record<string, (...args: unknown[]) => unknown>;
  return wrapErrors(impl) as unknown as Impl;
}

/** Wraps unary handlers and server-streaming generators so every rejection becomes a ConnectError. */
function wrapErrors(impl: Record<string, (...args: unknown[]) => unknown>) {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    const isGenerator = fn.constructor.name === "AsyncGeneratorFunction";
    out[name] = isGenerator
      ? async function* (...args: unknown[]) {
          try {
            yield* fn(...args) as AsyncGenerator<unknown>;
          } catch (err) {
            throw toConnectError(err);
          }
        }
      : async (...args: unknown[]) => {
          try {
            return await fn(...args);
          } catch (err) {
            throw toConnectError(err);
          }
        };
  }
  return out;
}
