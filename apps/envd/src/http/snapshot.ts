import { execFile } from "node:child_process";
import type { EnvdState } from "../state.ts";
import { type RouteHandler, sendNoContent } from "./respond.ts";

/**
 * POST /snapshot/prepare: quiesce before the host saves the VM. Flushes dirty pages to disk (the overlay is
 * captured with the RAM) and marks envd so the first /health after restore drops the connections that
 * existed at snapshot time (their peers are gone).
 */
export function createSnapshotPrepareRoute(deps: { state: EnvdState; markConnections: () => void }): RouteHandler {
  return async ({ res, log }) => {
    await new Promise<void>((resolve) => {
      execFile("sync", [], { timeout: 30_000 }, (err) => {
        if (err) log.warn({ err: err.message }, "sync before snapshot failed");
        resolve();
      });
    });
    deps.markConnections();
    deps.state.needsRestore = true;
    log.info("snapshot prepared");
    sendNoContent(res);
  };
}
