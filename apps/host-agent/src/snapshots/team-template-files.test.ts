import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CapsuleRecord } from "../capsules/capsule-record.ts";
import { AgentError } from "../errors.ts";
import { hostLayout } from "../storage/layout.ts";
import { checkTeamTemplateName, readManifest, removeTeamTemplate, writeTeamTemplate } from "./team-template-files.ts";

const record = (id: string): CapsuleRecord => ({
  version: 1,
  capsuleId: id,
  teamId: "team-a",
  template: "minimal",
  templateKey: "minimal-1c-256m",
  vcpus: 1,
  memoryMb: 256,
  timeoutSec: 0,
  diskSizeMb: 0,
  defaultUser: "",
  status: "paused",
  statusReason: "snapshot",
  pid: 0,
  spawnDir: "",
  hostPort: 0,
  kernelArgs: "console=ttyS0",
  accessToken: "secret-token",
  createdAtMs: 1,
  lastActiveAtMs: 1,
  metadata: { envd_version: "0.1.0" },
});

describe("team template files", () => {
  let root: string;
  const layout = () => hostLayout(root);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wrenn-tt-"));
    for (const id of ["cl-1", "cl-2", "cl-split"]) {
      const snap = hostLayout(root).snapshot(id);
      await mkdir(snap.dir, { recursive: true });
      await writeFile(snap.state, `state of ${id}`);
      await writeFile(snap.disk, `disk of ${id}`);
      if (id === "cl-split") await writeFile(snap.memory, Buffer.alloc(8192, 1));
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("writes a complete template: linked state, frozen disk copy, private manifest", async () => {
    const m = await writeTeamTemplate(layout(), record("cl-1"), "team-a", "web", false);
    const paths = layout().teamTemplate("team-a", "web");
    assert.equal(m.vcpus, 1);
    assert.equal(m.memoryMb, 256);
    assert.equal(m.isCow, false);
    assert.equal(m.accessToken, "secret-token");
    assert.equal(m.sizeBytes, "state of cl-1".length + "disk of cl-1".length);
    const [state, src, disk, manifest] = await Promise.all([
      stat(paths.state),
      stat(layout().snapshot("cl-1").state),
      stat(paths.disk),
      stat(paths.manifest),
    ]);
    assert.equal(state.ino, src.ino, "the state is a hard link, not a copy");
    assert.equal(disk.mode & 0o777, 0o444, "the disk is frozen");
    assert.equal(manifest.mode & 0o777, 0o600, "the manifest holds a token");
    assert.deepEqual(await readManifest(paths), m);
  });

  it("takes a split pause (RAM image + device state) as the copy-on-write form, with no conversion", async () => {
    const m = await writeTeamTemplate(layout(), record("cl-split"), "team-b", "split", false);
    const paths = layout().teamTemplate("team-b", "split");
    const snap = layout().snapshot("cl-split");
    assert.equal(m.isCow, true);
    assert.equal(m.devicesOnly, true);
    const [memory, srcMemory, cowState, srcState] = await Promise.all([
      stat(paths.memory),
      stat(snap.memory),
      stat(paths.cowState),
      stat(snap.state),
    ]);
    assert.equal(memory.ino, srcMemory.ino, "the RAM image is linked");
    assert.equal(cowState.ino, srcState.ino, "the device state is linked as the clones' state");
    await assert.rejects(stat(paths.state), /ENOENT/, "no stream state to convert");
    assert.equal(m.sizeBytes, "state of cl-split".length + "disk of cl-split".length + memory.blocks * 512);
  });

  it("refuses an existing name without overwrite and replaces it with overwrite", async () => {
    await assert.rejects(
      writeTeamTemplate(layout(), record("cl-2"), "team-a", "web", false),
      (e) => e instanceof AgentError && e.code === "already_exists",
    );
    const m = await writeTeamTemplate(layout(), record("cl-2"), "team-a", "web", true);
    assert.equal(m.sourceCapsuleId, "cl-2");
    const left = await readdir(join(root, "team-templates", "team-a"));
    assert.deepEqual(left, ["web"], "no temp or old folder left behind");
  });

  it("removes a template, then reports it missing", async () => {
    await removeTeamTemplate(layout(), "team-a", "web");
    assert.equal(await readManifest(layout().teamTemplate("team-a", "web")), undefined);
    await assert.rejects(
      removeTeamTemplate(layout(), "team-a", "web"),
      (e) => e instanceof AgentError && e.code === "not_found",
    );
  });

  it("rejects names that are not safe folder names", () => {
    assert.throws(() => checkTeamTemplateName("team-a", "../etc"), /template name/);
    assert.throws(() => checkTeamTemplateName("a/b", "web"), /team id/);
    checkTeamTemplateName("team-a", "my.template_1");
  });
});
