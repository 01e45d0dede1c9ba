import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { baseTree, lazyTree } from "./base-tree.ts";
import { hostLayout } from "./host-layout.ts";
import { createProgress } from "./progress.ts";
import { templateTree } from "./template-tree.ts";
import { TEMPLATES } from "./templates.ts";

describe("lazy trees", async () => {
  const root = await mkdtemp(join(tmpdir(), "wrenn-trees-"));
  after(() => rm(root, { recursive: true, force: true }));
  const layout = hostLayout(root);
  const progress = createProgress({ out: { write: () => true } });

  it("makes a tree only when its tarball is asked for, and once", async () => {
    let made = 0;
    const tree = lazyTree("h", async () => {
      made++;
      return "/x.tar.zst";
    });
    assert.equal(made, 0);
    assert.deepEqual(await Promise.all([tree.tarball(), tree.tarball()]), ["/x.tar.zst", "/x.tar.zst"]);
    assert.equal(made, 1);
  });

  it("knows the base tree's and a layer's hash without running debootstrap or apt", async () => {
    const base = baseTree(layout, progress, false);
    const python = templateTree(TEMPLATES.python, base, layout, progress, false);
    assert.match(base.hash, /^[0-9a-f]{64}$/);
    assert.notEqual(python.hash, base.hash);
    assert.equal(templateTree(TEMPLATES.minimal, base, layout, progress, false), base);
    // Nothing was built: no scratch work, no cache entries.
    await mkdir(layout.treeCacheDir, { recursive: true });
    assert.deepEqual(await readdir(layout.treeCacheDir), []);
  });

  it("finds a cached layer without touching the base tree", async () => {
    const base = lazyTree("b".repeat(64), () => assert.fail("the base tree was asked for"));
    const python = templateTree(TEMPLATES.python, base, layout, progress, false);
    const cached = join(layout.treeCacheDir, `python-${python.hash.slice(0, 16)}.tar.zst`);
    await writeFile(cached, "tarball");
    assert.equal(await python.tarball(), cached);
  });
});
