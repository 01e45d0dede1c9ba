/**
 * Port forwards added to a running VM: QEMU user networking reaches the guest only through `hostfwd` rules, so the
 * port proxy adds one per guest port on demand (HMP `hostfwd_add` through QMP; QEMU 7.2 has no QMP-native command).
 */
import { AgentError } from "../../errors.ts";
import { freeLoopbackPort } from "../../storage/ports.ts";
import { NETDEV_ID } from "./cmdline.ts";
import type { QmpClient } from "./qmp-client.ts";

/** Tries per forward: the free port can be taken by another process before QEMU binds it. */
const ATTEMPTS = 3;

/** Forwards a free 127.0.0.1 port to TCP `guestPort` in the guest; resolves with the host port. */
export async function addHostForward(qmp: QmpClient, guestPort: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const hostPort = await freeLoopbackPort();
    // HMP answers with an empty string on success and with the reason otherwise (it does not fail the command).
    const out = await qmp.execute<string>("human-monitor-command", {
      "command-line": `hostfwd_add ${NETDEV_ID} tcp:127.0.0.1:${hostPort}-:${guestPort}`,
    });
    const detail = typeof out === "string" ? out.trim() : "";
    if (!detail) return hostPort;
    if (attempt >= ATTEMPTS) {
      throw new AgentError("internal_error", `could not forward guest port ${guestPort} to the host: ${detail}`);
    }
  }
}
