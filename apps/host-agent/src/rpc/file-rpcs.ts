/** File RPCs, forwarded to the capsule's envd (/files for content, the filesystem service for the rest). */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { filesystem, type hostagent } from "@wrenn/protocol";
import type { CapsuleManager } from "../capsules/capsule-manager.ts";
import { errors } from "../errors.ts";

/** Largest file moved in one piece (the reference's upload limit). */
const MAX_FILE_BYTES = 100 * 1024 * 1024;
/** Chunk size of ReadFileStream. */
const CHUNK_BYTES = 64 * 1024;
const FILE_TIMEOUT_MS = 60_000;

type FileEntryInit = MessageInitShape<typeof hostagent.FileEntrySchema>;

const TYPE_NAME: Record<number, string> = {
  [filesystem.FileType.FILE]: "file",
  [filesystem.FileType.DIRECTORY]: "directory",
  [filesystem.FileType.SYMLINK]: "symlink",
};

/** envd's EntryInfo as the wire's FileEntry. */
export function toFileEntry(e: filesystem.EntryInfo): FileEntryInit {
  return {
    name: e.name,
    path: e.path,
    type: TYPE_NAME[e.type] ?? "file",
    size: e.size,
    mode: e.mode,
    permissions: e.permissions,
    owner: e.owner,
    group: e.group,
    modifiedAt: e.modifiedTime?.seconds ?? 0n,
    symlinkTarget: e.symlinkTarget,
  };
}

const requirePath = (path: string) => {
  if (!path) throw errors.invalidArgument("path is required");
  return path;
};

/** Handlers of the file RPCs. File operations do not count as activity (reference §5). */
export function createFileRpcs(manager: CapsuleManager) {
  return {
    async writeFile(req: hostagent.WriteFileRequest) {
      await manager.get(req.capsuleId).envd.writeFile(requirePath(req.path), req.content, FILE_TIMEOUT_MS);
      return {};
    },
    async readFile(req: hostagent.ReadFileRequest) {
      return { content: await manager.get(req.capsuleId).envd.readFile(requirePath(req.path), FILE_TIMEOUT_MS) };
    },
    async writeFileStream(requests: AsyncIterable<hostagent.WriteFileStreamRequest>) {
      let meta: hostagent.WriteFileStreamRequest_Meta | undefined;
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const r of requests) {
        if (r.content.case === "meta") meta = r.content.value;
        else if (r.content.case === "chunk") {
          total += r.content.value.length;
          if (total > MAX_FILE_BYTES) throw errors.invalidArgument(`file is larger than ${MAX_FILE_BYTES} bytes`);
          chunks.push(r.content.value);
        }
      }
      if (!meta) throw errors.invalidArgument("the first message must be meta{capsule_id, path}");
      await manager.get(meta.capsuleId).envd.writeFile(requirePath(meta.path), Buffer.concat(chunks), FILE_TIMEOUT_MS);
      return { bytesWritten: BigInt(total) };
    },
    async *readFileStream(req: hostagent.ReadFileStreamRequest) {
      const content = await manager.get(req.capsuleId).envd.readFile(requirePath(req.path), FILE_TIMEOUT_MS);
      for (let off = 0; off < content.length; off += CHUNK_BYTES)
        yield { chunk: content.subarray(off, off + CHUNK_BYTES) };
    },
    async listDir(req: hostagent.ListDirRequest) {
      const fs = manager.get(req.capsuleId).envd.filesystem;
      const res = await fs.listDir(
        { path: requirePath(req.path), depth: req.depth || 1 },
        { timeoutMs: FILE_TIMEOUT_MS },
      );
      return { entries: res.entries.map(toFileEntry) };
    },
    async makeDir(req: hostagent.MakeDirRequest) {
      const fs = manager.get(req.capsuleId).envd.filesystem;
      const res = await fs.makeDir({ path: requirePath(req.path) }, { timeoutMs: FILE_TIMEOUT_MS });
      return { entry: res.entry ? toFileEntry(res.entry) : undefined };
    },
    async removePath(req: hostagent.RemovePathRequest) {
      const fs = manager.get(req.capsuleId).envd.filesystem;
      await fs.remove({ path: requirePath(req.path) }, { timeoutMs: FILE_TIMEOUT_MS });
      return {};
    },
  };
}
