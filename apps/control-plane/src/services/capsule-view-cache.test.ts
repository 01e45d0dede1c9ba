import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import type { DatabaseHandle } from "../db/database.ts";
import type { Database } from "../db/schema.ts";
import { WriteWatch } from "../db/write-watch.ts";
import { Harness, type TestUser } from "../testing/harness.ts";
import { openTestDatabase } from "../testing/test-db.ts";
import type { CapsuleView } from "./capsule-store.ts";
import { CapsuleViewCache } from "./capsule-view-cache.ts";

const view = (status: string) => ({ id: "cl-x", status }) as CapsuleView;

describe("CapsuleViewCache", () => {
  it("serves a hit within the window, reloads after it, and never caches errors", async () => {
    let t = 0;
    const cache = new CapsuleViewCache({ ttlMs: 1000, now: () => t });
    let loads = 0;
    const load = async () => view(`s${++loads}`);
    assert.equal((await cache.get("team-a", "cl-x", load)).status, "s1");
    t = 999;
    assert.equal((await cache.get("team-a", "cl-x", load)).status, "s1");
    assert.equal((await cache.get("team-b", "cl-x", load)).status, "s2", "keyed by team too");
    t = 1000;
    assert.equal((await cache.get("team-a", "cl-x", load)).status, "s3");
    await assert.rejects(
      cache.get("team-a", "cl-y", async () => {
        throw new Error("404");
      }),
    );
    assert.equal((await cache.get("team-a", "cl-y", load)).status, "s4");
  });

  it("drops everything on invalidate, and does not keep a load that a write overlapped", async () => {
    const cache = new CapsuleViewCache({ ttlMs: 60_000 });
    let n = 0;
    await cache.get("t", "c", async () => view(`v${++n}`));
    cache.invalidate();
    assert.equal((await cache.get("t", "c", async () => view(`v${++n}`))).status, "v2");
    const during = await cache.get("t", "c2", async () => {
      cache.invalidate(); // a write lands while the row is read
      return view("old");
    });
    assert.equal(during.status, "old");
    assert.equal((await cache.get("t", "c2", async () => view("new"))).status, "new");
  });

  it("is a pass-through with ttlMs 0", async () => {
    const cache = new CapsuleViewCache({ ttlMs: 0 });
    let n = 0;
    await cache.get("t", "c", async () => view(`v${++n}`));
    assert.equal((await cache.get("t", "c", async () => view(`v${++n}`))).status, "v2");
  });
});

describe("WriteWatch", () => {
  let h: DatabaseHandle;
  let db: Kysely<Database>;
  const seen: string[] = [];

  before(async () => {
    h = await openTestDatabase();
    const watch = new WriteWatch(new Set(["capsules"]));
    watch.onWrite((t) => seen.push(t));
    db = h.db.withPlugin(watch);
    await db.insertInto("teams").values({ id: "team-w", name: "w", slug: "w" }).execute();
  });
  after(() => h.close());

  const writes = async (fn: () => Promise<unknown>) => {
    seen.length = 0;
    await fn();
    return seen.length;
  };

  it("reports inserts, updates and deletes of the table, aliased, raw and in transactions, twice each", async () => {
    const insert = () =>
      db
        .insertInto("capsules")
        .values({
          id: "cl-w",
          team_id: "team-w",
          template: "minimal",
          status: "running",
          vcpus: 1,
          memory_mb: 512,
          timeout_sec: 0,
          disk_size_mb: 5120,
          metadata: "{}",
        })
        .execute();
    assert.equal(await writes(insert), 2);
    assert.equal(
      await writes(() =>
        db.updateTable("capsules as c").set({ status: "paused" }).where("c.id", "=", "cl-w").execute(),
      ),
      2,
    );
    assert.equal(await writes(() => sql`UPDATE capsules SET status = 'running' WHERE id = 'cl-w'`.execute(db)), 2);
    assert.equal(
      await writes(() =>
        db
          .transaction()
          .execute((tx) => tx.updateTable("capsules").set({ vcpus: 2 }).where("id", "=", "cl-w").execute()),
      ),
      2,
    );
    assert.equal(await writes(() => db.deleteFrom("capsules").where("id", "=", "cl-w").execute()), 2);
  });

  it("ignores reads and writes of other tables", async () => {
    assert.equal(await writes(() => db.selectFrom("capsules").selectAll().execute()), 0);
    assert.equal(await writes(() => sql`SELECT count(*) FROM capsules`.execute(db)), 0);
    assert.equal(
      await writes(() => db.updateTable("teams").set({ name: "x" }).where("id", "=", "team-w").execute()),
      0,
    );
  });
});

describe("capsule reads with the caches on (GET, and the routing of exec, process and file calls)", () => {
  let h: Harness;
  let key: string;
  let admin: TestUser;

  before(async () => {
    h = await Harness.start({ capsuleCacheMs: 60_000 });
    admin = await h.user("admin");
    key = await h.apiKey(admin);
    await h.onlineHost(admin);
  });
  after(() => h.close());

  it("shows this replica's own changes at once, and other writers' only after the window", async () => {
    const id = await h.capsule(key);
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key })).json.status, "running");
    await h.req("POST", `/v1/capsules/${id}/pause`, { key });
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key })).json.status, "paused");
    // A write that does not go through this process (another replica) is not seen within the window.
    await h.db.db.updateTable("capsules").set({ status: "missing" }).where("id", "=", id).execute();
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key })).json.status, "paused");
    // Any local capsule write drops the cache.
    await h.req("POST", `/v1/capsules/${await h.capsule(key)}/ping`, { key });
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key })).json.status, "missing");
  });

  it("never serves one team's capsule to another", async () => {
    const id = await h.capsule(key);
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key })).status, 200);
    const other = await h.user("other");
    const otherKey = await h.apiKey(other);
    assert.equal((await h.req("GET", `/v1/capsules/${id}`, { key: otherKey })).status, 404);
  });

  const exec = (id: string, k = key) => h.req("POST", `/v1/capsules/${id}/exec`, { key: k }, { cmd: "true" });

  it("routes on the cached rows, and sees this replica's own pause and destroy at once", async () => {
    const id = await h.capsule(key);
    assert.equal((await exec(id)).status, 200);
    // Another replica's write is not seen within the window: the call still goes to the agent.
    await h.db.db.updateTable("capsules").set({ status: "paused" }).where("id", "=", id).execute();
    assert.equal((await exec(id)).status, 200);
    await h.db.db.updateTable("capsules").set({ status: "running" }).where("id", "=", id).execute();

    assert.equal((await h.req("POST", `/v1/capsules/${id}/pause`, { key })).status, 200);
    const paused = await exec(id);
    assert.equal(paused.status, 409, paused.body);
    assert.equal(paused.json.error.code, "invalid_state");
    assert.equal((await h.req("POST", `/v1/capsules/${id}/resume`, { key })).status, 200);
    assert.equal((await exec(id)).status, 200);
    assert.equal((await h.req("DELETE", `/v1/capsules/${id}`, { key })).status, 204);
    // The row stays (stopped), so the answer is the state error, as without the cache.
    const gone = await exec(id);
    assert.equal(gone.status, 409, gone.body);
    assert.equal((await h.req("GET", `/v1/capsules/${id}/processes`, { key })).status, 409);
  });

  it("never routes one team's call to another team's capsule", async () => {
    const id = await h.capsule(key);
    assert.equal((await exec(id)).status, 200);
    const otherKey = await h.apiKey(await h.user("other-exec"));
    const r = await exec(id, otherKey);
    assert.equal(r.status, 404, r.body);
    assert.equal((await h.req("GET", `/v1/capsules/${id}/files?path=/etc/hostname`, { key: otherKey })).status, 404);
  });
});
