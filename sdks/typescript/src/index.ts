/**
 * Wrenn TypeScript SDK: microVM capsules for running untrusted code.
 * @packageDocumentation
 */

export type { CapsuleConnectOptions, CapsuleCreateOptions } from "./capsule.ts";
export { Capsule } from "./capsule.ts";
export type { CallOptions, CreateCapsuleParams, HostRegistration } from "./client.ts";
export { CapsulesApi, HostsApi, login, SnapshotsApi, WrennClient } from "./client.ts";
export type { CommandEvent, CommandStreamOptions } from "./command-stream.ts";
export { CommandStream } from "./command-stream.ts";
export type { ProcessSignal, RunOptions } from "./commands.ts";
export { Commands } from "./commands.ts";
export type { ConfigSources, ConnectionOptions, ResolvedConfig } from "./config.ts";
export { configFilePath, DEFAULT_BASE_URL, readConfigFile, resolveConfig } from "./config.ts";
export type { WrennErrorOptions } from "./errors.ts";
export {
  AbortError,
  AgentError,
  AuthenticationError,
  ConflictError,
  ConnectionError,
  ERROR_CLASSES,
  errorFromBody,
  errorFromStream,
  ForbiddenError,
  HostHasCapsulesError,
  HostUnavailableError,
  InternalError,
  InvalidRequestError,
  InvalidStateError,
  NotFoundError,
  TimeoutError,
  TooLargeError,
  WrennError,
} from "./errors.ts";
export type { FileCallOptions, TransferOptions } from "./files.ts";
export { Files } from "./files.ts";
export type {
  CapsuleInfo,
  CapsuleStatus,
  CommandHandle,
  CommandResult,
  FileEntry,
  HostInfo,
  ProcessInfo,
  TemplateInfo,
} from "./models.ts";
export type { UploadSource } from "./multipart.ts";
export type { PtyEvent, PtyOptions } from "./pty.ts";
export { PtySession } from "./pty.ts";
