/**
 * The reusable part of the CLI: start a real local stack (control plane + host agent) from code, e.g. in tests.
 */

export type { LocalStack, LocalStackOptions } from "./up/local-stack.ts";
export { ADMIN_EMAIL, startLocalStack } from "./up/local-stack.ts";
export { ManagedProcess } from "./up/managed-process.ts";
export { findRunningStack, stopRecordedStack } from "./up/stack-control.ts";
export { defaultDataDir, REPO_ROOT } from "./up/stack-layout.ts";
