/**
 * Turns a team template's full-RAM pause state into the warm-template form (vm.md §5): a throwaway QEMU loads
 * state.bin into a *shared* memory file without ever running the guest, then saves its device state again with
 * x-ignore-shared. Clones then map that file privately (copy-on-write) and load a tiny state, exactly like clones
 * of base templates, instead of each reading all RAM from a stream.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CloneDeps } from "../capsules/clone-factory.ts";
import { AgentError } from "../errors.ts";
import type { TeamTemplatePaths } from "../storage/layout.ts";
import { createOverlay } from "../storage/overlay.ts";
import { templateVmSpec } from "../templates/template-builder.ts";
import { restoreOnFreePort } from "../vmm/restore-on-free-port.ts";
import type { Vm } from "../vmm/vmm.ts";
import { type TeamTemplateManifest, writeManifest } from "./team-template-files.ts";

/** Converts `paths` (manifest `m`, not yet copy-on-write) in place; resolves with the updated manifest. */
export async function convertToCow(
  deps: CloneDeps,
  paths: TeamTemplatePaths,
  m: TeamTemplateManifest,
): Promise<TeamTemplateManifest> {
  const started = Date.now();
  // Under sandboxes/ (short unix-socket paths; a restarted agent removes it as a folder without a capsule.json).
  const work = join(deps.layout.sandboxesDir, `convert-${randomBytes(4).toString("hex")}`);
  await rm(work, { recursive: true, force: true });
  await rm(paths.memory, { force: true });
  await rm(paths.cowState, { force: true });
  await mkdir(work, { recursive: true });
  let vm: Vm | undefined;
  try {
    // The guest never runs, but QEMU opens the disk read-write: give it a throwaway overlay.
    const overlay = join(work, "overlay.qcow2");
    await createOverlay(deps.qemuImg, paths.disk, "qcow2", overlay);
    const shape = { template: m.template, vcpus: m.vcpus, memoryMb: m.memoryMb };
    vm = await restoreOnFreePort(
      deps.vmm,
      {
        ...templateVmSpec(deps, shape, m.kernelArgs),
        name: `convert-${m.name}`,
        dir: work,
        diskPath: overlay,
        memoryFile: paths.memory,
        memoryShared: true,
      },
      paths.state,
      { timeoutMs: deps.restoreTimeoutMs, ignoreShared: false, resume: false },
    );
    await vm.saveState(paths.cowState, { ignoreShared: true, timeoutMs: 60_000 });
    await vm.kill();
    vm = undefined;
    await chmod(paths.memory, 0o444);
    const converted: TeamTemplateManifest = { ...m, isCow: true };
    await writeManifest(paths, converted);
    await rm(paths.state, { force: true });
    deps.log.info({ template: `${m.teamId}/${m.name}`, ms: Date.now() - started }, "team template made copy-on-write");
    return converted;
  } catch (err) {
    await vm?.kill().catch(() => undefined);
    await rm(paths.memory, { force: true });
    await rm(paths.cowState, { force: true });
    throw new AgentError("template_failed", `preparing template ${m.name}: ${AgentError.from(err).message}`, {
      cause: err,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
