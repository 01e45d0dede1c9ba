import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { EnvdError } from "../errors.ts";
import type { Logger } from "../logger.ts";

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

/** The helper the guest image provides: reads seed bytes on stdin, RNDADDENTROPY + RNDRESEEDCRNG. */
const RESEED_HELPER = "/usr/local/bin/wrenn-reseed";
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function run(file: string, args: string[], input?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 10_000 }, (err, _out, stderr) => {
      if (err)
        reject(
          new EnvdError("internal_error", `${file} failed: ${String(stderr).trim() || err.message}`, { cause: err }),
        );
      else resolve();
    });
    child.stdin?.end(input);
  });
}

/** Creates the guest identity applier; `isDev` makes every change a logged no-op. */
export function createHostIdentity(deps: { isDev: boolean; log: Logger }): HostIdentity {
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
      if (update.rngSeed) {
        // Clones of one snapshot share the CRNG state: mix in the host's bytes and force a reseed.
        if (existsSync(RESEED_HELPER)) await run(RESEED_HELPER, [], update.rngSeed);
        else await writeFile("/dev/urandom", update.rngSeed);
      }
      if (update.timestampMs !== undefined) {
        await run("date", ["-u", "-s", `@${Math.floor(update.timestampMs / 1000)}`]);
      }
      if (update.hostname) await run("hostname", [update.hostname]);
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
      deps.log.info({ hasSeed: Boolean(update.rngSeed), hostname: update.hostname }, "guest identity applied");
    },
  };
}
