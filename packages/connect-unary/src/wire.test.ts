import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Request, requestHeaders } from "./wire.ts";

/** Node's parsed headers as an HTTP/2 request carries them: lower-case names, pseudo-headers, repeated values. */
const raw = {
  ":method": "POST",
  ":path": "/svc/M",
  "content-type": "application/proto",
  authorization: "Basic cm9vdDo=",
  "set-cookie": ["a=1", "b=2"],
  "x-many": "one, two",
};

describe("requestHeaders", () => {
  const reference = () => {
    const h = new Headers();
    for (const [k, v] of Object.entries(raw)) {
      if (k.startsWith(":")) continue;
      for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
    }
    return h;
  };

  it("answers get and has as web Headers do, without the pseudo-headers", () => {
    const h = requestHeaders({ headers: raw } as unknown as Request);
    const ref = reference();
    for (const name of ["Content-Type", "authorization", "X-MANY", "set-cookie", "missing"]) {
      assert.equal(h.get(name), ref.get(name), name);
      assert.equal(h.has(name), ref.has(name), name);
    }
    // Web Headers throws on such a name; reading Node's headers, it is simply not there.
    assert.equal(h.get(":path"), null);
    assert.equal(h.has(":method"), false);
  });

  it("iterates, changes and reads back like web Headers", () => {
    const h = requestHeaders({ headers: raw } as unknown as Request);
    const ref = reference();
    assert.deepEqual([...h], [...ref]);
    assert.deepEqual(h.getSetCookie(), ref.getSetCookie());
    for (const x of [h, ref]) {
      x.set("Authorization", "Bearer k");
      x.append("x-many", "three");
      x.delete("content-type");
    }
    assert.deepEqual([...h.entries()], [...ref.entries()]);
    assert.equal(h.get("authorization"), "Bearer k");
    assert.equal(h.get("content-type"), null);
    const seen: string[] = [];
    h.forEach((v, k) => {
      seen.push(`${k}=${v}`);
    });
    assert.deepEqual(
      seen,
      [...ref].map(([k, v]) => `${k}=${v}`),
    );
  });
});
