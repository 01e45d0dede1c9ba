import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { DEFAULT_ROOT_DIR, parseBuildOptions } from "./build-options.ts";

describe("parseBuildOptions", () => {
  it("defaults to every template under /var/lib/wrenn", () => {
    const o = parseBuildOptions([], {});
    assert.equal(o.rootDir, DEFAULT_ROOT_DIR);
    assert.deepEqual(o.only, ["minimal", "python", "node"]);
    assert.equal(o.force, false);
    assert.equal(o.forceBase, false);
    assert.equal(o.envdDir, undefined);
  });

  it("takes the root from AGENT_FILES_ROOTDIR, and --root over it", () => {
    assert.equal(parseBuildOptions([], { AGENT_FILES_ROOTDIR: "/srv/wrenn/" }).rootDir, "/srv/wrenn");
    assert.equal(parseBuildOptions(["--root", "/data"], { AGENT_FILES_ROOTDIR: "/srv/wrenn" }).rootDir, "/data");
    // The agent's root is still scanned for overlays backed by old image versions when --root builds elsewhere.
    assert.equal(
      parseBuildOptions(["--root", "/data"], { AGENT_FILES_ROOTDIR: "/srv/wrenn" }).agentRootDir,
      "/srv/wrenn",
    );
  });

  it("builds --only templates in dependency order, once each", () => {
    assert.deepEqual(parseBuildOptions(["--only", "node,minimal,node"], {}).only, ["minimal", "node"]);
  });

  it("rejects an unknown template with invalid_args and lists the valid ones", () => {
    assert.throws(
      () => parseBuildOptions(["--only", "ruby"], {}),
      (e: unknown) =>
        e instanceof BuildError && e.code === "invalid_args" && /minimal, python, node/.test(e.hint ?? ""),
    );
  });

  it("rejects unknown flags and relative roots", () => {
    assert.throws(
      () => parseBuildOptions(["--fast"], {}),
      (e: unknown) => e instanceof BuildError && e.code === "invalid_args",
    );
    assert.throws(
      () => parseBuildOptions(["--root", "data"], {}),
      (e: unknown) => e instanceof BuildError && e.code === "invalid_args",
    );
  });

  it("reads --force, --force-base, --envd-dir and --help", () => {
    const o = parseBuildOptions(["--force", "--force-base", "--envd-dir", "/tmp/e", "--help"], {});
    assert.deepEqual([o.force, o.forceBase, o.envdDir, o.help], [true, true, "/tmp/e", true]);
  });
});
