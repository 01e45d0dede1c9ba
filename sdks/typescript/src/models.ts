/**
 * The objects the SDK returns, in camelCase, and the functions that build them from the API's snake_case JSON.
 */

/** Lifecycle states of a capsule. */
export type CapsuleStatus =
  | "pending"
  | "starting"
  | "running"
  | "paused"
  | "hibernated"
  | "stopped"
  | "missing"
  | "error"
  | (string & {});

/** A capsule as the control plane describes it. */
export interface CapsuleInfo {
  id: string;
  status: CapsuleStatus;
  template: string;
  vcpus: number;
  memoryMb: number;
  timeoutSec: number;
  hostIp?: string;
  guestIp?: string;
  createdAt?: Date;
  startedAt?: Date;
  lastActiveAt?: Date;
  lastUpdated?: Date;
  metadata: Record<string, string>;
}

/** The answer of a foreground command. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

/** A background process started by `commands.run(…, {background: true})`. */
export interface CommandHandle {
  pid: number;
  tag: string;
}

/** A process tracked by envd inside the capsule. */
export interface ProcessInfo {
  pid: number;
  tag?: string;
  cmd: string;
  args: string[];
}

/** A file or directory inside a capsule. */
export interface FileEntry {
  name: string;
  path: string;
  type: "file" | "directory" | "symlink" | (string & {});
  size: number;
  mode?: number;
  permissions?: string;
  owner?: string;
  group?: string;
  modifiedTime?: Date;
  symlinkTarget?: string;
}

/** A template (base image or snapshot) visible to the team. */
export interface TemplateInfo {
  name: string;
  type: "base" | "snapshot" | (string & {});
  vcpus: number;
  memoryMb: number;
  sizeBytes: number;
  createdAt?: Date;
  platform?: boolean;
  metadata: Record<string, string>;
}

/** A host (a machine running wrenn-agent). */
export interface HostInfo {
  id: string;
  type: string;
  status: string;
  address?: string;
  arch?: string;
  cpuCores?: number;
  memoryMb?: number;
  diskGb?: number;
  teamId?: string;
  lastHeartbeatAt?: Date;
  createdAt?: Date;
}

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && v !== "" && !Number.isNaN(Number(v)) ? Number(v) : undefined;
const date = (v: unknown): Date | undefined => {
  if (typeof v === "number") return new Date(v);
  const s = str(v);
  return s ? new Date(s) : undefined;
};
const strMap = (v: unknown): Record<string, string> =>
  v && typeof v === "object" ? Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, String(x)])) : {};

/** Builds a {@link CapsuleInfo} from the API's capsule JSON. */
export function toCapsuleInfo(j: Json): CapsuleInfo {
  return {
    id: String(j.id),
    status: String(j.status ?? "unknown"),
    template: String(j.template ?? ""),
    vcpus: num(j.vcpus) ?? 0,
    memoryMb: num(j.memory_mb) ?? 0,
    timeoutSec: num(j.timeout_sec) ?? 0,
    hostIp: str(j.host_ip),
    guestIp: str(j.guest_ip),
    createdAt: date(j.created_at),
    startedAt: date(j.started_at),
    lastActiveAt: date(j.last_active_at),
    lastUpdated: date(j.last_updated),
    metadata: strMap(j.metadata),
  };
}

/** Decodes the API's exec answer, including base64-encoded output. */
export function toCommandResult(j: Json): CommandResult {
  const decode = (v: unknown) =>
    j.encoding === "base64" ? Buffer.from(String(v ?? ""), "base64").toString("utf8") : String(v ?? "");
  return {
    stdout: decode(j.stdout),
    stderr: decode(j.stderr),
    exitCode: num(j.exit_code) ?? -1,
    durationMs: num(j.duration_ms) ?? 0,
  };
}

/** Builds a {@link ProcessInfo}. */
export function toProcessInfo(j: Json): ProcessInfo {
  return {
    pid: num(j.pid) ?? 0,
    tag: str(j.tag),
    cmd: String(j.cmd ?? ""),
    args: Array.isArray(j.args) ? j.args.map(String) : [],
  };
}

const FILE_TYPES: Record<string, FileEntry["type"]> = {
  "1": "file",
  "2": "directory",
  "3": "symlink",
  FILE_TYPE_FILE: "file",
  FILE_TYPE_DIRECTORY: "directory",
  FILE_TYPE_SYMLINK: "symlink",
  dir: "directory",
};

/** Builds a {@link FileEntry}; accepts both name styles the API has used for each field. */
export function toFileEntry(j: Json): FileEntry {
  const rawType = String(j.type ?? "file");
  return {
    name: String(j.name ?? ""),
    path: String(j.path ?? ""),
    type: FILE_TYPES[rawType] ?? rawType,
    size: num(j.size) ?? 0,
    mode: num(j.mode),
    permissions: str(j.permissions),
    owner: str(j.owner),
    group: str(j.group),
    // unix seconds on the wire
    modifiedTime: typeof j.modified_at === "number" ? new Date(j.modified_at * 1000) : date(j.modified_at),
    symlinkTarget: str(j.symlink_target),
  };
}

/** Builds a {@link TemplateInfo}. */
export function toTemplateInfo(j: Json): TemplateInfo {
  return {
    name: String(j.name),
    type: String(j.type ?? "base"),
    vcpus: num(j.vcpus) ?? 0,
    memoryMb: num(j.memory_mb) ?? 0,
    sizeBytes: num(j.size_bytes) ?? 0,
    createdAt: date(j.created_at),
    platform: typeof j.platform === "boolean" ? j.platform : undefined,
    metadata: strMap(j.metadata),
  };
}

/** Builds a {@link HostInfo}. */
export function toHostInfo(j: Json): HostInfo {
  return {
    id: String(j.id),
    type: String(j.type ?? ""),
    status: String(j.status ?? ""),
    address: str(j.address),
    arch: str(j.arch),
    cpuCores: num(j.cpu_cores),
    memoryMb: num(j.memory_mb),
    diskGb: num(j.disk_gb),
    teamId: str(j.team_id),
    lastHeartbeatAt: date(j.last_heartbeat_at),
    createdAt: date(j.created_at),
  };
}
