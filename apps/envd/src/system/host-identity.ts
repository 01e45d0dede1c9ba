import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { EnvdError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { MAX_SEED_BYTES, SystemHelper } from "./system-helper.ts";

/** What /init may change about the guest itself. */
export interface IdentityUpdate {
  timestampMs?: number;
  rngSeed?: Buffer;
  hostname?: string;
  macAddress?: string;
}

/** Applies clock, RNG seed, hostname and MAC to the guest. A no-op in dev mode (it would change the host). */
export interface HostIdentity {
  apply(update: IdentityUpdate): Promise<void>;
}

/**
 * The helper the guest image provides. One-shot: reads seed bytes on stdin, RNDADDENTROPY + RNDRESEEDCRNG.
 * `--serve`: the same plus clock and hostname, one command per stdin line (see `SystemHelper`).
 */
const RESEED_HELPER = "/usr/local/bin/wrenn-reseed";
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Runs a program to completion with `input` on stdin; rejects with internal_error quoting its stderr. */
export type RunOnce = (file: string, args: string[], input?: Buffer) => Promise<void>;

const runOnce: RunOnce = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 10_000 }, (err, _out, stderr) => {
      if (err)
        reject(
          new EnvdError("internal_error", `${file} failed: ${String(stderr).trim() || err.message}`, { cause: err }),
        );
      else resolve();
    });
    child.stdin?.end(input);
  });

/** Dependencies of `createHostIdentity`; tests replace the helper and the one-shot runner. */
export interface HostIdentityDeps {
  /** Dev mode: every change is validated, then skipped, and no helper is started. */
  isDev: boolean;
  log: Logger;
  /** The helper binary. Default `/usr/local/bin/wrenn-reseed`. */
  helperPath?: string;
  /** Its server-mode arguments. Default `["--serve"]`. */
  helperArgs?: readonly string[];
  /** Runs the one-shot fallbacks (`date`, `hostname`, `ip`, one-shot reseed). Default `execFile`, 10 s deadline. */
  run?: RunOnce;
}

/** A HostIdentity that owns the system helper process. */
export interface ManagedHostIdentity extends HostIdentity {
  /** Stops the system helper; later applies use one-shot commands. */
  close(): void;
}

/**
 * Creates the guest identity applier. Outside dev mode it starts `wrenn-reseed --serve` at once, so the helper
 * already runs in every template's memory snapshot and /init applies seed, clock and hostname without a spawn
 * (each costs ~130 ms under TCG). Without a live helper it falls back to one-shot commands, after restarting
 * a dead helper once. The MAC change stays an `ip link` spawn.
 */
export function createHostIdentity(deps: HostIdentityDeps): ManagedHostIdentity {
  const helperPath = deps.helperPath ?? RESEED_HELPER;
  const run = deps.run ?? runOnce;
  const { log } = deps;
  let isClosed = false;
  let restartsLeft = 1;
  const startHelper = () =>
    deps.isDev || isClosed || !existsSync(helperPath)
      ? undefined
      : SystemHelper.start({ path: helperPath, args: deps.helperArgs, log });
  let helper = startHelper();

  const liveHelper = () => {
    if (!helper?.isAlive && restartsLeft > 0 && !isClosed) {
      restartsLeft -= 1;
      helper = startHelper();
    }
    return helper?.isAlive ? helper : undefined;
  };
  const viaHelper = async (op: (h: SystemHelper) => Promise<void>, fallback: () => Promise<void>) => {
    const h = liveHelper();
    if (h) {
      try {
        return await op(h);
      } catch (err) {
        // A live helper answered `error`: that is the system call's verdict, a spawned tool would fail alike.
        if (h.isAlive) throw err;
        log.warn({ err }, "system helper gone: falling back to one-shot commands");
      }
    }
    await fallback();
  };

  return {
    async apply(update) {
      if (update.macAddress !== undefined && !MAC_RE.test(update.macAddress)) {
        throw new EnvdError("invalid_argument", `bad macAddress ${JSON.stringify(update.macAddress)}`);
      }
      if (update.hostname !== undefined && !HOSTNAME_RE.test(update.hostname)) {
        throw new EnvdError("invalid_argument", `bad hostname ${JSON.stringify(update.hostname)}`);
      }
      if (update.timestampMs !== undefined && !(Number.isFinite(update.timestampMs) && update.timestampMs > 0)) {
        throw new EnvdError("invalid_argument", "timestamp must be positive unix ms");
      }
      if (deps.isDev) return;
      const { rngSeed, timestampMs, hostname } = update;
      if (rngSeed) {
        // Clones of one snapshot share the CRNG state: mix in the host's bytes and force a reseed. Like the
        // one-shot mode, the helper takes at most 512 bytes.
        await viaHelper(
          (h) => h.seed(rngSeed.subarray(0, MAX_SEED_BYTES)),
          async () => {
            if (existsSync(helperPath)) await run(helperPath, [], rngSeed);
            else await writeFile("/dev/urandom", rngSeed);
          },
        );
      }
      if (timestampMs !== undefined) {
        await viaHelper(
          (h) => h.setClock(Math.floor(timestampMs)),
          () => run("date", ["-u", "-s", `@${Math.floor(timestampMs / 1000)}`]),
        );
      }
      if (hostname) {
        await viaHelper(
          (h) => h.setHostname(hostname),
          () => run("hostname", [hostname]),
        );
      }
      if (update.macAddress) {
        const mac = update.macAddress.toLowerCase();
        // Some NICs refuse a new address while up: retry with the link briefly down.
        await run("ip", ["link", "set", "dev", "eth0", "address", mac]).catch(async () => {
          await run("ip", ["link", "set", "dev", "eth0", "down"]);
          await run("ip", ["link", "set", "dev", "eth0", "address", mac]).finally(() =>
            run("ip", ["link", "set", "dev", "eth0", "up"]),
          );
        });
      }
      log.info({ hasSeed: Boolean(rngSeed), hostname, hasHelper: helper?.isAlive ?? false }, "guest identity applied");
    },
    close() {
      isClosed = true;
      helper?.close();
    },
  };
}
