import { join } from "node:path";
import { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, makeTestRoot } from "./agent-harness/vm-host.ts";

const root = await makeTestRoot("wrenn-persist-smoke-");
const agent = await AgentProcess.start({
  rootDir: root,
  agentKey: "k",
  logFile: join(root, "agent.log"),
  env: { AGENT_POOL_SIZE: "1" },
});
try {
  const t = (s: number) => ({ timeoutMs: s });
  const r = await agent.client.createCapsule({ capsuleId: "cl-s1", teamId: "team-x", template: "minimal" }, t(240000));
  console.log("created", r.capsule?.hostIp);
  await agent.client.exec(
    {
      capsuleId: "cl-s1",
      cmd: "echo hi > /root/a; nohup sh -c 'i=0; while true; do i=$((i+1)); echo $i > /root/n; sleep 0.2; done' >/dev/null 2>&1 &",
    },
    t(60000),
  );
  for (let i = 0; i < 3; i++) {
    let s = Date.now();
    const p = await agent.client.pauseCapsule({ capsuleId: "cl-s1", reason: "user" }, t(60000));
    console.log("paused", Date.now() - s, p.capsule?.status, p.capsule?.statusReason);
    s = Date.now();
    const q = await agent.client.resumeCapsule({ capsuleId: "cl-s1" }, t(60000));
    console.log("resumed", Date.now() - s, q.capsule?.hostIp);
    const e = await agent.client.exec({ capsuleId: "cl-s1", cmd: "cat /root/a /root/n" }, t(60000));
    console.log(Buffer.from(e.stdout).toString());
  }
  await agent.client.exec(
    { capsuleId: "cl-s1", cmd: "cd /root && nohup python3 -m http.server 8000 >/dev/null 2>&1 & sleep 2" },
    t(60000),
  );
  let s = Date.now();
  const snap = await agent.client.createSnapshot({ capsuleId: "cl-s1", teamId: "team-x", name: "snap1" }, t(60000));
  console.log("snapshot", Date.now() - s, snap.sizeBytes, snap.capsule?.status);
  for (const id of ["cl-c1", "cl-c2"]) {
    s = Date.now();
    const c = await agent.client.createCapsule({ capsuleId: id, teamId: "team-x", template: "snap1" }, t(120000));
    console.log("create from snap", Date.now() - s, c.capsule?.template);
    const e = await agent.client.exec(
      {
        capsuleId: id,
        cmd: "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/a').read())\"; head -c 8 /dev/urandom | od -An -tx1",
      },
      t(60000),
    );
    console.log(Buffer.from(e.stdout).toString(), Buffer.from(e.stderr).toString());
  }
  console.log(
    (await agent.client.listCapsules({})).capsules.map((c) => `${c.capsuleId}:${c.status}:${c.statusReason}`),
  );
} catch (e) {
  console.error("FAIL", e);
} finally {
  await agent.kill();
  console.log(root);
}
