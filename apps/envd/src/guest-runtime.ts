/**
 * Settings of envd's own Node runtime for life in a capsule: every clone is restored from a template's memory
 * (pages shared copy-on-write until written) and, under TCG, every instruction it runs is emulated.
 */
import { setFlagsFromString } from "node:v8";

/**
 * Turns off V8's memory reducer while the heap is small. The reducer runs full collections 8–16 s after the heap
 * grew, to hand memory back while idle; for envd (a heap of 6–9 MiB) there is little to hand back, but every
 * capsule paid ~80 ms of collection, ~140 ms of emulated CPU, 15 s after it was created or last busy, and the
 * collection wrote over heap pages that were still shared with the template. A large heap keeps the reducer.
 */
export function skipIdleCollections(): void {
  setFlagsFromString(SKIP_IDLE_COLLECTIONS_FLAG);
}

/** The V8 flag `skipIdleCollections` sets. */
export const SKIP_IDLE_COLLECTIONS_FLAG = "--no-memory-reducer-for-small-heaps";

/**
 * Loads Node's web globals (`Headers`, from the bundled undici) now rather than at their first use: ~47 ms of
 * JavaScript on a host without JIT, far more under TCG. Loaded before a template is saved, they are in every clone's
 * memory, so no capsule pays for them on its first error or JSON call (connect-es makes `Headers` for both).
 */
export function loadWebGlobals(): void {
  void globalThis.Headers;
}

/**
 * Whether `err` is the rejection undici leaves behind when it loads without WebAssembly (V8's `--jitless`, as envd
 * runs under TCG): its HTTP client's parser cannot load. envd makes no HTTP requests of its own, so it is harmless.
 */
export function isUndiciWithoutWasm(err: unknown): boolean {
  return (
    err instanceof ReferenceError &&
    err.message === "WebAssembly is not defined" &&
    (err.stack ?? "").includes("lazyllhttp")
  );
}
