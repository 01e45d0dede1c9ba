import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isUndiciWithoutWasm, SKIP_IDLE_COLLECTIONS_FLAG } from "./guest-runtime.ts";

const run = promisify(execFile);
const runtime = join(dirname(fileURLToPath(import.meta.url)), "guest-runtime.ts");

/** Runs `code`, an ES module, in a fresh Node (with tsx and `rt`, this folder's guest-runtime.ts, if `withRuntime`). */
async function inChild(nodeFlags: string[], code: string, withRuntime = true): Promise<unknown> {
  const script = withRuntime ? `import * as rt from ${JSON.stringify(runtime)};\n${code}` : code;
  const loader = withRuntime ? ["--import", "tsx"] : [];
  const args = [...nodeFlags, ...loader, "--input-type=module", "-e", script];
  const { stdout } = await run(process.execPath, args, { timeout: 60_000 });
  return JSON.parse(stdout);
}

describe("envd's guest runtime settings", () => {
  it("skipIdleCollections' flag stops V8's memory reducer from collecting an idle small heap", async () => {
    // The flag works only if set before the heap grows (envd sets it in the first module it loads), so these children
    // are plain Node, without tsx. The reducer's first check comes after the start delay, its collection one 8 s
    // period later; both children grow the heap, then idle ~10 s counting the reducer's collections (callback flag
    // kGCCallbackFlagCollectAllExternalMemory).
    const code = (skip: boolean) => `
      import { setFlagsFromString } from "node:v8";
      import { PerformanceObserver } from "node:perf_hooks";
      setFlagsFromString("--gc-memory-reducer-start-delay-ms=200");
      ${skip ? `setFlagsFromString(${JSON.stringify(SKIP_IDLE_COLLECTIONS_FLAG)});` : ""}
      let reducerRuns = 0;
      new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.flags & 32) reducerRuns++; })
        .observe({ entryTypes: ["gc"] });
      let keep = [];
      for (let i = 0; i < 200000; i++) { keep.push({ a: i, b: "x" + i }); if (keep.length > 50000) keep = []; }
      setTimeout(() => console.log(JSON.stringify({ reducerRuns })), 10_000);`;
    const [withReducer, without] = await Promise.all([inChild([], code(false), false), inChild([], code(true), false)]);
    assert.ok((withReducer as { reducerRuns: number }).reducerRuns > 0, "the control child saw the reducer run");
    assert.deepEqual(without, { reducerRuns: 0 });
  });

  it("loadWebGlobals loads undici at once, and its rejection without WebAssembly is recognised", async () => {
    const out = await inChild(
      ["--jitless"],
      `
      const seen = [];
      process.on("unhandledRejection", (err) => seen.push(rt.isUndiciWithoutWasm(err)));
      rt.loadWebGlobals();
      setTimeout(() => console.log(JSON.stringify({ seen, headers: new Headers({ a: "1" }).get("a") })), 100);`,
    );
    assert.deepEqual(out, { seen: [true], headers: "1" });
  });

  it("recognises only that rejection", () => {
    assert.equal(isUndiciWithoutWasm(new ReferenceError("WebAssembly is not defined")), false, "no lazyllhttp frame");
    assert.equal(isUndiciWithoutWasm(new Error("WebAssembly is not defined")), false);
    assert.equal(isUndiciWithoutWasm("WebAssembly is not defined"), false);
    const e = new ReferenceError("x is not defined");
    e.stack = "ReferenceError: x is not defined\n    at lazyllhttp (node:internal/deps/undici/undici:1:1)";
    assert.equal(isUndiciWithoutWasm(e), false);
  });
});
