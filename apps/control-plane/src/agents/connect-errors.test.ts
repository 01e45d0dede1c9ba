import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { agentErrorToWrenn } from "./connect-errors.ts";

describe("agent error mapping", () => {
  it("maps each Connect code to the reference's HTTP status and code", () => {
    const cases: Array<[Code, number, string]> = [
      [Code.NotFound, 404, "not_found"],
      [Code.InvalidArgument, 400, "invalid_request"],
      [Code.FailedPrecondition, 409, "conflict"],
      [Code.AlreadyExists, 409, "conflict"],
      [Code.PermissionDenied, 403, "forbidden"],
      [Code.Unavailable, 503, "no_hosts_available"],
      [Code.Unimplemented, 501, "agent_error"],
      [Code.Internal, 502, "agent_error"],
      [Code.DeadlineExceeded, 502, "agent_error"],
      [Code.Unknown, 502, "agent_error"],
    ];
    for (const [code, status, name] of cases) {
      const e = agentErrorToWrenn(new ConnectError("boom", code));
      assert.equal(e.status, status, Code[code]);
      assert.equal(e.code, name, Code[code]);
    }
  });
  it("passes the agent's message through, except for Unavailable", () => {
    assert.equal(agentErrorToWrenn(new ConnectError("no such file", Code.NotFound)).message, "no such file");
    assert.equal(
      agentErrorToWrenn(new ConnectError("dial tcp", Code.Unavailable)).message,
      "no servers available — try again later",
    );
  });
  it("wraps plain errors as 502", () => {
    assert.equal(agentErrorToWrenn(new Error("socket hang up")).status, 502);
  });
});
