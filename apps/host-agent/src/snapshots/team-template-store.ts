/**
 * Team templates ready for cloning. The first use of a template (or the background warm-up right after it was made)
 * converts it to the copy-on-write form once; later lookups are a map hit. Callers get a `ReadyTemplate`, the same
 * shape base templates have, so clones of both go through the same restore path and pools.
 */
import type { CloneDeps } from "../capsules/clone-factory.ts";
import { AgentError } from "../errors.ts";
import type { ReadyTemplate } from "../templates/template-store.ts";
import { convertToCow } from "./cow-convert.ts";
import { checkTeamTemplateName, readManifest } from "./team-template-files.ts";

/** Key of a team template in maps and capsule records. */
export const teamTemplateKey = (teamId: string, name: string) => `${teamId}/${name}`;

/** The store's surface. */
export interface TeamTemplateStore {
  /** The ready template, converting it first if needed; undefined when the team has no template of that name. */
  resolve(teamId: string, name: string): Promise<ReadyTemplate | undefined>;
  /** Starts the conversion now (after a snapshot) so the first create does not wait for it. */
  warm(teamId: string, name: string): void;
  /** Forgets a template that was deleted or replaced; waits for a conversion of it in flight. */
  forget(teamId: string, name: string): Promise<void>;
}

/** Creates the store. */
export function createTeamTemplateStore(deps: CloneDeps): TeamTemplateStore {
  const ready = new Map<string, Promise<ReadyTemplate | undefined>>();

  async function load(teamId: string, name: string): Promise<ReadyTemplate | undefined> {
    const paths = deps.layout.teamTemplate(teamId, name);
    let m = await readManifest(paths);
    if (!m) return undefined;
    if (!m.isCow) m = await convertToCow(deps, paths, m);
    return {
      meta: {
        key: `team-${teamId}-${name}`,
        fingerprint: "",
        shape: { template: m.template, vcpus: m.vcpus, memoryMb: m.memoryMb },
        kernelArgs: m.kernelArgs,
        envdVersion: m.metadata.envd_version ?? "",
        builtAtMs: m.createdAtMs,
        bootMs: 0,
        buildMs: 0,
      },
      paths: { dir: paths.dir, disk: paths.disk, state: paths.cowState, memory: paths.memory, meta: paths.manifest },
      accessToken: m.accessToken,
      devicesOnly: m.devicesOnly === true,
    };
  }

  const resolve = (teamId: string, name: string) => {
    checkTeamTemplateName(teamId, name);
    const key = teamTemplateKey(teamId, name);
    let p = ready.get(key);
    if (!p) {
      p = load(teamId, name);
      ready.set(key, p);
      // A missing or failed template is looked up again next time.
      p.then(
        (t) => {
          if (!t && ready.get(key) === p) ready.delete(key);
        },
        () => {
          if (ready.get(key) === p) ready.delete(key);
        },
      );
    }
    return p;
  };

  return {
    resolve,
    warm(teamId, name) {
      resolve(teamId, name).catch((err) =>
        deps.log.warn({ teamId, name, err: AgentError.from(err).message }, "team template warm-up failed"),
      );
    },
    async forget(teamId, name) {
      const key = teamTemplateKey(teamId, name);
      const p = ready.get(key);
      ready.delete(key);
      await p?.catch(() => undefined);
    },
  };
}
