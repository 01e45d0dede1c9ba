/**
 * Times the capsule manager's VM operations into the Prometheus registry without the manager knowing about
 * metrics: create (a restore from a warm template), pause, resume and snapshot.
 */
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import type { MetricsRegistry } from "./metrics-registry.ts";

/** Returns `manager` with its VM operations timed in `registry` (same object, methods replaced). */
export function instrumentManager(manager: CapsuleManager, registry: MetricsRegistry): CapsuleManager {
  const { create, pause, resume, snapshot } = manager;
  manager.create = (input) => registry.timeVmOperation("restore", () => create.call(manager, input));
  manager.pause = (id, reason, timings) =>
    registry.timeVmOperation("pause", () => pause.call(manager, id, reason, timings));
  manager.resume = (id, input, timings) =>
    registry.timeVmOperation("resume", () => resume.call(manager, id, input, timings));
  manager.snapshot = (id, team, name, overwrite) =>
    registry.timeVmOperation("snapshot", () => snapshot.call(manager, id, team, name, overwrite));
  return manager;
}
