import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AbortError,
  AgentError,
  AuthenticationError,
  ConflictError,
  ERROR_CLASSES,
  errorFromBody,
  HostHasCapsulesError,
  HostUnavailableError,
  InternalError,
  InvalidRequestError,
  InvalidStateError,
  NotFoundError,
  TimeoutError,
  TooLargeError,
  WrennError,
} from "./errors.ts";

const body = (code: string, message = "m", extra: Record<string, unknown> = {}) => ({
  error: { code, message, ...extra },
});

describe("errorFromBody", () => {
  const cases: [number, string, new (...a: never[]) => WrennError][] = [
    [400, "invalid_request", InvalidRequestError],
    [401, "unauthorized", AuthenticationError],
    [404, "not_found", NotFoundError],
    [409, "conflict", ConflictError],
    [409, "invalid_state", InvalidStateError],
    [413, "too_large", TooLargeError],
    [503, "host_unavailable", HostUnavailableError],
    [503, "no_hosts_available", HostUnavailableError],
    [502, "agent_error", AgentError],
    [500, "internal_error", InternalError],
  ];
  for (const [status, code, Cls] of cases) {
    it(`maps ${status} ${code} to ${Cls.name}`, () => {
      const err = errorFromBody(status, body(code, "boom"));
      assert.ok(err instanceof Cls);
      assert.ok(err instanceof WrennError);
      assert.equal(err.code, code);
      assert.equal(err.status, status);
      assert.equal(err.message, "boom");
    });
  }

  it("treats invalid_state as a kind of conflict", () => {
    assert.ok(errorFromBody(409, body("invalid_state")) instanceof ConflictError);
  });

  it("keeps sandbox_ids of a busy host", () => {
    const err = errorFromBody(409, body("has_active_sandboxes", "busy", { sandbox_ids: ["cl-a", "cl-b"] }));
    assert.ok(err instanceof HostHasCapsulesError);
    assert.deepEqual((err as HostHasCapsulesError).capsuleIds, ["cl-a", "cl-b"]);
  });

  it("falls back on the status for an unknown code", () => {
    const err = errorFromBody(404, body("weird_code"));
    assert.ok(err instanceof NotFoundError);
    assert.equal(err.code, "weird_code");
  });

  it("handles a non-JSON body by status", () => {
    const err = errorFromBody(413, "<html>too big</html>");
    assert.ok(err instanceof TooLargeError);
    assert.equal(err.code, "too_large");
    const e500 = errorFromBody(504, "");
    assert.ok(e500 instanceof InternalError);
  });

  it("has a class for every code in the table", () => {
    for (const [code, Cls] of Object.entries(ERROR_CLASSES)) {
      assert.ok(errorFromBody(418, body(code)) instanceof Cls, code);
    }
  });
});

describe("WrennError.from", () => {
  it("keeps a WrennError", () => {
    const e = new NotFoundError("not_found", "x");
    assert.equal(WrennError.from(e), e);
  });
  it("maps aborts and timeouts", () => {
    assert.ok(WrennError.from(Object.assign(new Error("a"), { name: "AbortError" })) instanceof AbortError);
    assert.ok(WrennError.from(Object.assign(new Error("t"), { name: "TimeoutError" })) instanceof TimeoutError);
  });
  it("wraps anything else as internal_error with the cause", () => {
    const cause = new Error("disk on fire");
    const e = WrennError.from(cause);
    assert.equal(e.code, "internal_error");
    assert.equal(e.cause, cause);
  });
});
