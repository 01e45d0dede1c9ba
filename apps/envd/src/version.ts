/** envd's version, reported by GET /health. Replaced at build time by esbuild's `define`. */
export const ENVD_VERSION: string = typeof __ENVD_VERSION__ === "string" ? __ENVD_VERSION__ : "0.1.0-dev";

declare const __ENVD_VERSION__: string | undefined;
