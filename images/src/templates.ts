/** The base templates every host gets, in build order. */
export const TEMPLATE_NAMES = ["minimal", "python", "node"] as const;

/** One of {@link TEMPLATE_NAMES}. */
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** How one template differs from the shared debootstrap base. */
export interface TemplateRecipe {
  name: TemplateName;
  /** Debian packages added with `chroot apt-get install --no-install-recommends` (none for minimal). */
  packages: readonly string[];
  /** Shell run in the chroot after the packages (as root, `/bin/sh -ec`); part of the recipe hash. */
  postInstall?: string;
}

/** The debootstrap recipe shared by every template: change it and every template is rebuilt from scratch. */
export const BASE_RECIPE = {
  suite: "bookworm",
  variant: "minbase",
  // python3 for users and wrenn-init helpers, busybox for small tools, tini reaps orphans as PID 1,
  // procps (ps, top), iproute2 (`ip`, used by wrenn-init to configure eth0).
  include: ["python3", "busybox", "tini", "ca-certificates", "procps", "iproute2"],
} as const;

/** Per-template recipes. python and node are minimal plus packages; all share one cached base. */
export const TEMPLATES: Record<TemplateName, TemplateRecipe> = {
  minimal: { name: "minimal", packages: [] },
  python: {
    name: "python",
    packages: ["python3-pip", "python3-venv"],
    // A capsule is a throwaway VM: let `pip install` work without --break-system-packages (PEP 668 marker).
    postInstall: "rm -f /usr/lib/python3*/EXTERNALLY-MANAGED",
  },
  node: { name: "node", packages: ["nodejs", "npm"] },
};
