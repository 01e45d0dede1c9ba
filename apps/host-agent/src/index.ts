/** Public surface of @wrenn/host-agent (for tools and tests that embed the agent). */
export { type RunningAgent, startAgent } from "./agent.ts";
export type { CapsuleManager, CreateCapsuleInput } from "./capsules/capsule-manager.ts";
export { type AgentConfig, loadConfig } from "./config.ts";
export { AgentError, type AgentErrorCode } from "./errors.ts";
export type { Vm, Vmm, VmSpec, VmStats } from "./vmm/vmm.ts";
