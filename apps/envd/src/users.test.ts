import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EnvdState } from "./state.ts";
import { createUserResolver } from "./users.ts";

describe("user resolver", () => {
  const dir = mkdtempSync(join(tmpdir(), "wrenn-users-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const passwdPath = join(dir, "passwd");
  writeFileSync(passwdPath, "root:x:0:0:root:/root:/bin/bash\n");
  const users = createUserResolver({ state: new EnvdState(), isDev: false, root: dir, passwdPath });

  it("sees users added or replaced after an earlier lookup (the parsed file is kept only while it is unchanged)", async () => {
    assert.equal((await users.resolve("root")).home, "/root");
    await assert.rejects(users.resolve("alice"), /alice/);
    appendFileSync(passwdPath, "alice:x:1000:1000::/home/alice:/bin/sh\n");
    assert.equal((await users.resolve("alice")).home, "/home/alice");
    // Same size, new inode: what `useradd`/`vipw` do (write a copy, rename it over).
    const next = join(dir, "passwd.new");
    writeFileSync(next, "root:x:0:0:root:/root:/bin/bash\nbobby:x:1000:1000::/home/bobby:/bin/sh\n");
    renameSync(next, passwdPath);
    assert.equal((await users.resolve("bobby")).home, "/home/bobby");
    await assert.rejects(users.resolve("alice"), /alice/);
  });

  it("falls back to reading nothing when the file is gone", async () => {
    rmSync(passwdPath);
    await assert.rejects(users.resolve("bobby"), /bobby/);
  });
});
