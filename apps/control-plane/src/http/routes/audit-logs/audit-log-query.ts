import { z } from "zod";

/** The largest page served; the reference has no maximum, but one query must stay bounded. */
export const MAX_AUDIT_PAGE = 1000;

/** RFC3339 with an optional fraction and a `Z` or `±hh:mm` offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** A filter given repeated (`?action=a&action=b`), comma-separated (`?action=a,b`) or both; deduplicated. */
const MultiValue = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => [
    ...new Set(
      (v === undefined ? [] : Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(","))
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ),
  ]);

/** `GET /v1/audit-logs` and `/v1/admin/audit-logs` query (reference §1.1 cursor pagination). */
export const AuditLogQuerystring = z
  .object({
    before: z
      .string()
      .regex(RFC3339, "before must be an RFC3339 timestamp such as 2026-01-02T03:04:05Z")
      .refine((s) => !Number.isNaN(Date.parse(s)), "before is not a valid date")
      .optional()
      .describe("Exclusive cursor: next_before of the previous page"),
    before_id: z
      .string()
      .regex(/^log-[0-9a-z]{25}$/, "before_id must be an audit log id (log-…)")
      .optional()
      .describe("Tie-break of the cursor: next_before_id of the previous page"),
    limit: z.coerce
      .number()
      .int("limit must be a whole number")
      .min(1, "limit must be at least 1")
      .default(50)
      .transform((n) => Math.min(n, MAX_AUDIT_PAGE))
      .describe(`Page size, default 50 (at most ${MAX_AUDIT_PAGE} are returned)`),
    resource_type: MultiValue.describe("Only these resource types (repeat the parameter or separate with commas)"),
    action: MultiValue.describe("Only these actions (repeat the parameter or separate with commas)"),
  })
  .refine((q) => q.before_id === undefined || q.before !== undefined, {
    message: "before_id needs before",
    path: ["before_id"],
  });

export const AuditLogItem = z
  .object({
    id: z.string(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    actor_name: z.string().nullable(),
    resource_type: z.string(),
    resource_id: z.string().nullable(),
    action: z.string(),
    scope: z.string(),
    status: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .describe("AuditLogEntry");

export const AuditLogPage = z
  .object({
    items: z.array(AuditLogItem),
    next_before: z.string().nullable().describe("Pass as before for the next page; null on the last page"),
    next_before_id: z.string().nullable().describe("Pass as before_id for the next page; null on the last page"),
  })
  .describe("AuditLogPage");
