/**
 * envd answers binary unary calls on its lean path and everything else through connect-es: the same call must get
 * the same answer either way, errors included, over both HTTP versions.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { EnvdHarness, type EnvdHarness as Harness, type HttpVersion, type WireFormat } from "./testing/envd-harness.ts";

/** A call's answer as comparable data: the message without timestamps, or the error's code and message. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return JSON.parse(
      JSON.stringify(await call(), (key, value) => {
        if (key === "modifiedTime" || key === "$typeName") return undefined;
        return typeof value === "bigint" ? value.toString() : value;
      }),
    );
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
}

describe("envd answers binary and JSON unary calls alike", () => {
  let envd: Harness;
  before(async () => {
    envd = await EnvdHarness.start();
    await writeFile(join(envd.root, "file.txt"), "hello");
  });
  after(() => envd.close());

  for (const version of ["1.1", "2"] as HttpVersion[]) {
    it(`over HTTP/${version}: files, processes and their errors`, async () => {
      const answers: Record<WireFormat, unknown[]> = { binary: [], json: [] };
      for (const format of ["binary", "json"] as WireFormat[]) {
        const fs = envd.filesystemClient(version, {}, format);
        const ps = envd.processClient(version, {}, format);
        const dir = join(envd.root, `${format}-${version}`); // dev mode: paths are the host's
        const steps: (() => Promise<unknown>)[] = [
          () => fs.makeDir({ path: `${dir}/a/b` }),
          () => fs.makeDir({ path: `${dir}/a/b` }), // already exists
          () => fs.stat({ path: join(envd.root, "file.txt") }),
          () => fs.stat({ path: join(envd.root, "missing") }), // not found
          () => fs.listDir({ path: join(envd.root, "file.txt") }), // not a directory
          () => fs.move({ source: `${dir}/a/b`, destination: `${dir}/a/c` }),
          () => fs.listDir({ path: dir, depth: 2 }),
          () => fs.remove({ path: `${dir}/a` }),
          () => fs.stat({ path: `${dir}/a` }), // gone
          () => ps.list({}),
          () => ps.sendSignal({ process: { selector: { case: "pid", value: 999_999 } }, signal: 9 }), // no such process
        ];
        for (const step of steps) answers[format].push(await outcome(step));
      }
      // The directory names differ by format; everything else must match.
      const normalized = (xs: unknown[], format: WireFormat) =>
        JSON.parse(JSON.stringify(xs).replaceAll(`${format}-${version}`, "DIR"));
      assert.deepEqual(normalized(answers.binary, "binary"), normalized(answers.json, "json"));
      // And the answers are the ones a user expects, not the same failure twice.
      const [, exists, stat, missing, notDir, , listed] = answers.binary as Record<string, unknown>[];
      assert.equal((stat as { entry: { size: string } }).entry.size, "5");
      assert.equal((exists as { code: number }).code, 6); // already_exists
      assert.equal((missing as { code: number }).code, 5); // not_found
      assert.ok((notDir as { code?: number }).code !== undefined);
      assert.equal((listed as { entries: unknown[] }).entries.length, 2);
    });
  }
});
