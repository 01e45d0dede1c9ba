import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mirrorFromSources } from "./apt-mirror.ts";

describe("mirrorFromSources", () => {
  it("picks the suite's stanza from deb822, not the security one", () => {
    const text = `Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a snapshot comment
URIs: http://mirror.example/debian/ http://other.example/debian
Suites: bookworm bookworm-updates
Components: main
`;
    assert.equal(mirrorFromSources(text, "bookworm"), "http://mirror.example/debian");
  });

  it("skips disabled and deb-src stanzas", () => {
    const text =
      "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n";
    assert.equal(mirrorFromSources(text, "bookworm"), undefined);
  });

  it("reads the one-line sources.list format, with options", () => {
    const text =
      "# comment\ndeb [arch=amd64] http://ftp.example/debian bookworm main\ndeb http://ftp.example/debian-security bookworm-security main\n";
    assert.equal(mirrorFromSources(text, "bookworm"), "http://ftp.example/debian");
    assert.equal(mirrorFromSources(text, "trixie"), undefined);
  });
});
