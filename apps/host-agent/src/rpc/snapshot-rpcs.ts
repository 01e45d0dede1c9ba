/** Team template RPCs: CreateSnapshot (a capsule becomes a template) and DeleteSnapshot. */
import type { hostagent } from "@wrenn/protocol";
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import { errors } from "../errors.ts";
import { toCapsuleInfo } from "./capsule-rpcs.ts";

/** Handlers of the snapshot RPCs. */
export function createSnapshotRpcs(manager: CapsuleManager) {
  return {
    async createSnapshot(req: hostagent.CreateSnapshotRequest) {
      if (!req.capsuleId) throw errors.invalidArgument("capsule_id is required");
      if (!req.teamId || !req.name) throw errors.invalidArgument("team_id and name are required");
      const r = await manager.snapshot(req.capsuleId, req.teamId, req.name, req.overwrite);
      return {
        name: r.name,
        sizeBytes: BigInt(r.sizeBytes),
        vcpus: r.vcpus,
        memoryMb: r.memoryMb,
        capsule: toCapsuleInfo(r.capsule),
      };
    },
    async deleteSnapshot(req: hostagent.DeleteSnapshotRequest) {
      if (!req.teamId || !req.name) throw errors.invalidArgument("team_id and name are required");
      await manager.deleteSnapshot(req.teamId, req.name);
      return {};
    },
  };
}
