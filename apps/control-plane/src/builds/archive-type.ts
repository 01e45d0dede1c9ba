/** Archive formats a build accepts (reference §9: detected by magic bytes). */
export type ArchiveType = "tar.gz" | "zip" | "tar";

/**
 * Detects a build archive's format from its first bytes: gzip (`1f 8b`, taken as a gzipped tar), zip (`PK\x03\x04`,
 * or `PK\x05\x06` for an empty zip), or a POSIX/GNU tar (`ustar` at offset 257). Undefined for anything else.
 */
export function detectArchiveType(bytes: Uint8Array): ArchiveType | undefined {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return "tar.gz";
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b) {
    if ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06)) return "zip";
  }
  if (bytes.length >= 262 && Buffer.from(bytes.subarray(257, 262)).toString("latin1") === "ustar") return "tar";
  return undefined;
}
