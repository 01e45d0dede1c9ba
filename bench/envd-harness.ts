import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { process as pb } from "@wrenn/protocol";
import { compileSpawnerHelper } from "../images/src/spawner-helper.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * A dev-mode envd for benchmarks: builds/envd when built (set ENVD_BENCH_SOURCE=1 to force source), with
 * wrenn-spawner compiled from images/guest as the guest has it (set ENVD_BENCH_SPAWNER=0 for child_process).
 */
export async function startEnvd(): Promise<{
  port: number;
  root: string;
  kind: string;
  /** A connect-es client; binary protobuf (connect-node's default) unless `json`. */
  client: (v: "1.1" | "2", json?: boolean) => Client<typeof pb.Process>;
  stop: () => Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), "envd-bench-"));
  const exe = join(repo, "builds/envd");
  const useExe = existsSync(exe) && !process.env.ENVD_BENCH_SOURCE;
  const spawner =
    process.env.ENVD_BENCH_SPAWNER === "0"
      ? ""
      : (
          await compileSpawnerHelper(
            join(tmpdir(), "wrenn-bench-helpers", "bin"),
            join(tmpdir(), "wrenn-bench-helpers"),
          )
        ).path;
  const args = ["--port", "0", "--host", "127.0.0.1", "--dev", "--root", root, "--spawner", spawner];
  const child = useExe
    ? spawn(exe, args, { stdio: ["ignore", "pipe", "inherit"] })
    : spawn(process.execPath, ["--import", "tsx", join(repo, "apps/envd/src/main.ts"), ...args], {
        stdio: ["ignore", "pipe", "inherit"],
      });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("envd did not start in 30 s"));
    }, 30_000);
    let log = "";
    child.stdout.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /"port":(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`envd exited with ${code}`)));
  });
  const clients = new Map<string, Client<typeof pb.Process>>();
  return {
    port,
    root,
    kind: `${useExe ? "builds/envd (SEA)" : "source (tsx)"}, ${spawner ? "wrenn-spawner" : "child_process"}`,
    client: (v, json = false) => {
      const key = `${v}${json ? "-json" : ""}`;
      let c = clients.get(key);
      if (!c) {
        const baseUrl = `http://127.0.0.1:${port}`;
        c = createClient(pb.Process, createConnectTransport({ baseUrl, httpVersion: v, useBinaryFormat: !json }));
        clients.set(key, c);
      }
      return c;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Percentile of sorted numbers. */
export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
