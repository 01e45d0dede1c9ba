import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GUEST_DIR, readGuestFile } from "./guest-files.ts";
import { runCommand } from "./run-command.ts";

describe("guest scripts", () => {
  it("wrenn-init.sh parses as POSIX sh (dash) and ends by exec-ing tini with envd on 49983", async () => {
    await runCommand("dash", ["-n", `${GUEST_DIR}wrenn-init.sh`]);
    const text = await readGuestFile("wrenn-init.sh");
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.match(
      text,
      /echo "wrenn-init: starting envd"\nexec \/usr\/bin\/tini -s -- \/usr\/local\/bin\/envd --port 49983\n$/,
    );
  });

  it("initramfs-init.sh parses under busybox sh and only calls applets the initramfs links", async () => {
    await runCommand("busybox", ["sh", "-n", `${GUEST_DIR}initramfs-init.sh`], {
      hint: "apt-get install -y busybox-static",
    });
    const text = await readGuestFile("initramfs-init.sh");
    assert.match(text, /^#!\/bin\/busybox sh\n/);
    assert.match(text, /exec switch_root \$r "\$init"\n$/);
  });
});
