/**
 * Builds builds/wrenn-agent: one CommonJS bundle with a node shebang (the agent has no native addons, so nothing
 * stays external). Run through `make build` / `npm run build -- wrenn-agent`.
 */
import { join } from "node:path";
import { bundleNodeApp } from "../../scripts/bundle-node-app.ts";

await bundleNodeApp({ entry: join(import.meta.dirname, "src", "main.ts"), name: "wrenn-agent" });
