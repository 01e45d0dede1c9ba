import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { createLogger } from "../logger.ts";
import { createHostIdentity, type HostIdentityDeps, type ManagedHostIdentity } from "./host-identity.ts";

const log = createLogger("silent");

/** A stand-in `--serve` helper: appends each command to the file named by $0 and answers per its first word. */
const RECORDING_SERVER = `while IFS= read -r l; do
  echo "$l" >>"$0"
  case "$l" in
    hostname\\ bad*) echo "error hostname: Operation not permitted" ;;
    *) [ -e "$0.die" ] && exit 1; echo ok ;;
  esac
done`;

describe("createHostIdentity", () => {
  let dir: string;
  let journal: string;
  let spawned: string[][];
  const identities: ManagedHostIdentity[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "host-identity-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => {
    for (const identity of identities.splice(0)) identity.close();
  });

  /** Non-dev identity on the fake helper; one-shot commands are only recorded, never run. */
  function create(name: string, deps: Partial<HostIdentityDeps> = {}): ManagedHostIdentity {
    journal = join(dir, name);
    spawned = [];
    const identity = createHostIdentity({
      isDev: false,
      log,
      helperPath: "/bin/sh",
      helperArgs: ["-c", RECORDING_SERVER, journal],
      run: async (file, args) => {
        spawned.push([file, ...args]);
      },
      ...deps,
    });
    identities.push(identity);
    return identity;
  }
  const commands = async () => (await readFile(journal, "utf8").catch(() => "")).split("\n").filter(Boolean);

  it("applies seed, clock and hostname through the helper; only the MAC is a spawn", async () => {
    const identity = create("all");
    await identity.apply({
      rngSeed: Buffer.alloc(600, 0xab),
      timestampMs: 1_700_000_000_123.7,
      hostname: "capsule-1",
      macAddress: "02:00:00:00:00:01",
    });
    assert.deepEqual(await commands(), [`seed ${"ab".repeat(512)}`, "clock 1700000000123", "hostname capsule-1"]);
    assert.deepEqual(spawned, [["ip", "link", "set", "dev", "eth0", "address", "02:00:00:00:00:01"]]);
  });

  it("passes the helper's error answer on without a fallback spawn", async () => {
    const identity = create("error");
    await assert.rejects(identity.apply({ hostname: "bad-host" }), /system helper: hostname: Operation not permitted/);
    assert.deepEqual(spawned, []);
  });

  it("restarts a dead helper once, then falls back to one-shot commands", async () => {
    const identity = create("dies");
    await identity.apply({ hostname: "first" });
    await writeFile(`${journal}.die`, "");
    await identity.apply({ rngSeed: Buffer.from([1, 2]), timestampMs: 5_000, hostname: "second" });
    // seed kills the helper; clock gets a restarted one, which dies too; hostname goes straight to a spawn.
    assert.deepEqual(await commands(), ["hostname first", "seed 0102", "clock 5000"]);
    assert.deepEqual(spawned, [["/bin/sh"], ["date", "-u", "-s", "@5"], ["hostname", "second"]]);
    await identity.apply({ hostname: "third" });
    assert.deepEqual(spawned.at(-1), ["hostname", "third"]);
  });

  it("uses one-shot commands after close", async () => {
    const identity = create("closed");
    identity.close();
    await identity.apply({ timestampMs: 2_000 });
    assert.deepEqual(await commands(), []);
    assert.deepEqual(spawned, [["date", "-u", "-s", "@2"]]);
  });

  it("validates but changes nothing in dev mode", async () => {
    const identity = create("dev", { isDev: true });
    await identity.apply({ rngSeed: Buffer.from([1]), timestampMs: 1, hostname: "x" });
    await assert.rejects(identity.apply({ hostname: "-bad" }), /bad hostname/);
    assert.deepEqual(await commands(), []);
    assert.deepEqual(spawned, []);
  });
});
