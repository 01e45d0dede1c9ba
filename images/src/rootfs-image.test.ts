import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readJson, renderManifest } from "./manifest.ts";
import { imageSizeBytes } from "./rootfs-image.ts";

const MIB = 2 ** 20;

describe("imageSizeBytes", () => {
  it("gives small trees 2 GiB and big ones 1.3x plus 1 GiB, in 256 MiB steps", () => {
    assert.equal(imageSizeBytes(190 * MIB), 2048 * MIB);
    assert.equal(imageSizeBytes(800 * MIB), 2304 * MIB);
    for (const tree of [0, 333 * MIB, 4000 * MIB]) {
      const size = imageSizeBytes(tree);
      assert.equal(size % (256 * MIB), 0);
      assert.ok(size >= tree * 1.3 + 1024 * MIB || size === 2048 * MIB);
    }
  });
});

describe("manifest", () => {
  it("renders exactly the contract's fields in order", () => {
    const text = renderManifest({
      built_at: "2026-01-01T00:00:00.000Z",
      size_bytes: 5,
      envd_sha256: "e",
      kernel_release: "k",
      recipe_hash: "h",
      name: "minimal",
      extra: 1,
    } as never);
    assert.deepEqual(Object.keys(JSON.parse(text)), [
      "name",
      "recipe_hash",
      "kernel_release",
      "envd_sha256",
      "size_bytes",
      "built_at",
    ]);
  });

  it("reads a missing or corrupt manifest as undefined (not built)", async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-manifest-"));
    try {
      assert.equal(await readJson(join(d, "none.json")), undefined);
      await writeFile(join(d, "bad.json"), "{half");
      assert.equal(await readJson(join(d, "bad.json")), undefined);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
