/**
 * The two metrics RPCs of `HostAgentService`, ready to spread into the agent's service implementation:
 * `GetCapsuleMetrics` reads a running capsule's rings for a range; `FlushCapsuleMetrics` hands back every tier and
 * stops the capsule's sampler (the control plane stores them on pause and destroy).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { hostagent } from "@wrenn/protocol";
import { errors } from "../errors.ts";
import type { CapsuleMetricsHub } from "./capsule-metrics-hub.ts";
import { isMetricRange, METRIC_RANGES } from "./metric-ranges.ts";
import type { MetricSample } from "./metric-rings.ts";

type PointInit = MessageInitShape<typeof hostagent.MetricPointSchema>;

/** A sample as a protobuf `MetricPoint` (unix seconds; int64 fields as bigint). */
export function toWirePoint(s: MetricSample): PointInit {
  return {
    timestampUnix: BigInt(Math.floor(s.timestampMs / 1000)),
    cpuPct: s.cpuPct,
    memBytes: BigInt(Math.round(s.memBytes)),
    diskBytes: BigInt(Math.round(s.diskBytes)),
  };
}

/** Handlers for `getCapsuleMetrics` and `flushCapsuleMetrics`; errors are `AgentError`s for the RPC edge to map. */
export function createMetricsRpc(hub: CapsuleMetricsHub) {
  return {
    async getCapsuleMetrics(
      req: hostagent.GetCapsuleMetricsRequest,
    ): Promise<MessageInitShape<typeof hostagent.GetCapsuleMetricsResponseSchema>> {
      const range = req.range === "" ? "10m" : req.range;
      if (!isMetricRange(range)) {
        throw errors.invalidArgument(`range must be one of: ${METRIC_RANGES.join(", ")}`);
      }
      const points = hub.points(req.capsuleId, range);
      if (!points) throw errors.capsuleNotFound(req.capsuleId);
      return { points: points.map(toWirePoint) };
    },

    async flushCapsuleMetrics(
      req: hostagent.FlushCapsuleMetricsRequest,
    ): Promise<MessageInitShape<typeof hostagent.FlushCapsuleMetricsResponseSchema>> {
      // Idempotent: a second flush, or one after an agent restart lost the rings, returns empty tiers.
      const t = hub.flush(req.capsuleId);
      return {
        points10m: t.points10m.map(toWirePoint),
        points2h: t.points2h.map(toWirePoint),
        points24h: t.points24h.map(toWirePoint),
      };
    },
  };
}
