/** Capsule lifecycle RPCs: create, destroy, pause, resume, ping, list, host info, terminate. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { hostagent } from "@wrenn/protocol";
import type { CapsuleView } from "../capsules/capsule.ts";
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import { errors } from "../errors.ts";

type CapsuleInfoInit = MessageInitShape<typeof hostagent.CapsuleInfoSchema>;

/** A capsule as the wire's CapsuleInfo. */
export function toCapsuleInfo(v: CapsuleView): CapsuleInfoInit {
  return {
    capsuleId: v.capsuleId,
    status: v.status === "paused" ? hostagent.CapsuleStatus.PAUSED : hostagent.CapsuleStatus.RUNNING,
    teamId: v.teamId,
    template: v.template,
    vcpus: v.vcpus,
    memoryMb: v.memoryMb,
    timeoutSec: v.timeoutSec,
    hostIp: v.hostIp,
    createdAtUnixMs: BigInt(v.createdAtMs),
    lastActiveAtUnixMs: BigInt(v.lastActiveAtMs),
    metadata: v.metadata,
    statusReason: v.statusReason,
  };
}

/** Host facts reported by GetHostInfo. */
export interface HostFacts {
  readonly agentVersion: string;
  readonly accelerator: string;
  listTemplates(): Promise<string[]>;
}

/** Handlers of the lifecycle RPCs. `onTerminate` runs after Terminate answered (destroy all, then exit). */
export function createCapsuleRpcs(manager: CapsuleManager, host: HostFacts, onTerminate: () => void) {
  return {
    async getHostInfo() {
      const all = manager.list();
      return {
        agentVersion: host.agentVersion,
        accelerator: host.accelerator,
        templates: await host.listTemplates(),
        runningCapsules: all.filter((c) => c.status === "running").length,
        pausedCapsules: all.filter((c) => c.status === "paused").length,
      };
    },
    async createCapsule(req: hostagent.CreateCapsuleRequest) {
      if (!req.capsuleId) throw errors.invalidArgument("capsule_id is required");
      const view = await manager.create({
        capsuleId: req.capsuleId,
        teamId: req.teamId,
        template: req.template,
        vcpus: req.vcpus,
        memoryMb: req.memoryMb,
        timeoutSec: req.timeoutSec,
        diskSizeMb: req.diskSizeMb,
        defaultUser: req.defaultUser,
        defaultEnv: req.defaultEnv,
      });
      return { capsule: toCapsuleInfo(view) };
    },
    async destroyCapsule(req: hostagent.DestroyCapsuleRequest) {
      await manager.destroy(req.capsuleId);
      return {};
    },
    async pauseCapsule(req: hostagent.PauseCapsuleRequest) {
      if (!req.capsuleId) throw errors.invalidArgument("capsule_id is required");
      return { capsule: toCapsuleInfo(await manager.pause(req.capsuleId, req.reason || "user")) };
    },
    async resumeCapsule(req: hostagent.ResumeCapsuleRequest) {
      if (!req.capsuleId) throw errors.invalidArgument("capsule_id is required");
      const view = await manager.resume(req.capsuleId, {
        timeoutSec: req.timeoutSec,
        defaultUser: req.defaultUser,
        defaultEnv: req.defaultEnv,
      });
      return { capsule: toCapsuleInfo(view) };
    },
    async pingCapsule(req: hostagent.PingCapsuleRequest) {
      manager.get(req.capsuleId, true);
      return {};
    },
    async listCapsules() {
      return { capsules: manager.list().map(toCapsuleInfo), autoPausedCapsuleIds: manager.takeAutoPaused() };
    },
    async terminate() {
      setImmediate(onTerminate);
      return {};
    },
  };
}
