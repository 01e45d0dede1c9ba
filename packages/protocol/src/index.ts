/**
 * The wire contracts of Wrenn, generated from `proto/` by `buf generate`.
 * - `process` and `filesystem`: envd's Connect services (wire-compatible with the reference guest agent).
 * - `hostagent`: the control plane → host agent service.
 */
export * as filesystem from "./gen/filesystem/filesystem_pb.ts";
export * as hostagent from "./gen/hostagent/v1/hostagent_pb.ts";
export * as process from "./gen/process/process_pb.ts";

/** TCP port envd listens on inside every guest. */
export const ENVD_PORT = 49983;
