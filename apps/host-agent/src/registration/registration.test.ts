import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { CP_LOST_AFTER_FAILURES, startHeartbeats } from "./registration.ts";

/** A fake control plane whose heartbeat answers are scripted (503 = failure, 204 = ok). */
function fakeCp(statuses: number[]): Promise<{ server: Server; url: string; beats: () => number }> {
  let beats = 0;
  const server = createServer((req, res) => {
    beats++;
    res.statusCode = statuses[Math.min(beats - 1, statuses.length - 1)] ?? 204;
    req.resume();
    res.end();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      const port = typeof a === "object" && a ? a.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}`, beats: () => beats });
    });
  });
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !check()) await new Promise((r) => setTimeout(r, 10));
  return check();
}

describe("heartbeats", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wrenn-hb-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const start = (url: string, onLost: () => void) =>
    startHeartbeats(
      {
        config: loadConfig({ AGENT_FILES_ROOTDIR: root, AGENT_CP_URL: url }),
        log: createLogger("silent"),
        register: undefined,
        address: undefined,
        onHostDeleted: () => {},
        onControlPlaneLost: onLost,
      },
      { host_id: "h1", token: "not-a-jwt", refresh_token: "r", agent_key: "k", cp_url: url },
      20,
    );

  it(`reports the control plane lost once after ${CP_LOST_AFTER_FAILURES} failures in a row, and keeps beating`, async () => {
    const cp = await fakeCp([503]);
    let lost = 0;
    const hb = start(cp.url, () => lost++);
    try {
      assert.ok(await waitUntil(() => cp.beats() >= CP_LOST_AFTER_FAILURES + 3, 10_000), "heartbeats are retried");
      assert.equal(lost, 1, "one pause-everything per outage");
    } finally {
      hb.stop();
      cp.server.close();
    }
  });

  it("does not report a loss when a success breaks the run of failures", async () => {
    const cp = await fakeCp([503, 503, 204, 503, 503, 204]);
    let lost = 0;
    const hb = start(cp.url, () => lost++);
    try {
      assert.ok(await waitUntil(() => cp.beats() >= 6, 10_000));
      hb.stop();
      assert.equal(lost, 0);
    } finally {
      hb.stop();
      cp.server.close();
    }
  });
});
