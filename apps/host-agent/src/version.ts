/** The agent's version, reported in GetHostInfo and capsule metadata. */
export const AGENT_VERSION = "0.1.0";
