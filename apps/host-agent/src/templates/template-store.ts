/**
 * The warm templates of this host: reuses saved ones whose fingerprint still matches, builds missing ones (one build
 * at a time: each cold boot wants a whole core under TCG) and shares an in-flight build between callers.
 */
import { access, readFile } from "node:fs/promises";
import { AgentError, errors } from "../errors.ts";
import type { Logger } from "../log.ts";
import { SAFE_NAME } from "../storage/layout.ts";
import { guestKernelArgs } from "../vmm/qemu/cmdline.ts";
import { buildTemplate, type TemplateBuildDeps, type TemplateMeta } from "./template-builder.ts";
import { templateDependents } from "./template-dependents.ts";
import { type TemplateShape, templateFingerprint, templateKey } from "./template-key.ts";

/** A ready template and where its files are. */
export interface ReadyTemplate {
  readonly meta: TemplateMeta;
  readonly paths: ReturnType<TemplateBuildDeps["layout"]["template"]>;
  /** envd token the saved guest expects (team templates: their source capsule's); base templates have none. */
  readonly accessToken?: string;
  /** `paths.state` holds device state only (a team template made from a split pause); see `Vm.saveSplit`. */
  readonly devicesOnly?: boolean;
}

/** The template store's surface. */
export interface TemplateStore {
  /** The ready template of `shape`, building it if needed. Rejects with a clear error if it cannot be built. */
  ensure(shape: TemplateShape): Promise<ReadyTemplate>;
  /** The template of `shape` if it is ready now (no build). */
  peek(shape: TemplateShape): ReadyTemplate | undefined;
  /** Names of base images present on this host. */
  listImages(): Promise<string[]>;
}

/** Creates the store. */
export function createTemplateStore(deps: TemplateBuildDeps): TemplateStore {
  const ready = new Map<string, ReadyTemplate>();
  const inflight = new Map<string, Promise<ReadyTemplate>>();
  let queue: Promise<unknown> = Promise.resolve();
  const log: Logger = deps.log.child({ component: "templates" });

  async function load(shape: TemplateShape): Promise<ReadyTemplate> {
    const key = templateKey(shape);
    const image = deps.layout.image(shape.template);
    if (!SAFE_NAME.test(shape.template)) throw errors.invalidArgument(`template name "${shape.template}" is not valid`);
    if (!(await exists(image.rootfs))) throw errors.imageMissing(shape.template, image.rootfs);
    if (!(await exists(deps.layout.kernel))) throw errors.kernelMissing(deps.layout.kernel);
    const fingerprint = await templateFingerprint({
      imageManifest: image.manifest,
      imageRootfs: image.rootfs,
      kernel: deps.layout.kernel,
      initrd: deps.layout.initrd,
      vmmVersion: deps.vmm.version,
      accelerator: deps.vmm.accelerator,
      kernelArgs: guestKernelArgs(deps.vmm.kernelArgs, deps.extraKernelArgs),
    });
    const paths = deps.layout.template(key);
    const saved = await readFile(paths.meta, "utf8")
      .then((t) => JSON.parse(t) as TemplateMeta)
      .catch(() => undefined);
    const isComplete = saved !== undefined && (await exists(paths.state)) && (await exists(paths.memory));
    if (isComplete && saved.fingerprint === fingerprint) {
      log.info({ template: key }, "reusing saved warm template");
      return { meta: saved, paths };
    }
    if (isComplete) {
      // Capsules and team templates layered on its disk would read a different disk after a rebuild in place.
      const dependents = await templateDependents(deps.layout, key);
      if (dependents.length > 0) {
        log.warn(
          { template: key, dependents: dependents.length },
          "saved template is stale but capsules or team templates depend on its disk; keeping it until they are gone",
        );
        return { meta: saved, paths };
      }
    }
    if (saved) log.info({ template: key }, "saved template is stale (image, kernel or VMM changed); rebuilding");
    // Serialise builds; the promise chain never rejects so one failure does not block the next build.
    const build = queue.then(() => buildTemplate(deps, shape, fingerprint));
    queue = build.catch(() => undefined);
    try {
      return { meta: await build, paths };
    } catch (err) {
      throw errors.templateFailed(key, AgentError.from(err));
    }
  }

  return {
    ensure(shape) {
      const key = templateKey(shape);
      const done = ready.get(key);
      if (done) return Promise.resolve(done);
      let p = inflight.get(key);
      if (!p) {
        p = load(shape)
          .then((t) => {
            ready.set(key, t);
            return t;
          })
          .finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },
    peek: (shape) => ready.get(templateKey(shape)),
    async listImages() {
      const { readdir } = await import("node:fs/promises");
      const names = await readdir(`${deps.layout.root}/images`).catch(() => [] as string[]);
      const present = await Promise.all(names.map(async (n) => ((await exists(deps.layout.image(n).rootfs)) ? n : "")));
      return present.filter(Boolean).sort();
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
