/**
 * A tenant's event catalog: event types by name, each with an optional JSON Schema whose every change makes a new
 * version (earlier ones stay), examples, and whether ingestion refuses payloads that do not conform (`enforce`) or
 * accepts and marks them (`warn`). Records as stored, and the one transition a PUT makes.
 */
import { z } from "zod";

/** Names of the event types endpoints already filter on: `order.paid`, dot-separated words. */
export const eventTypeNameSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "a name such as order.paid")
  .refine((n) => n !== "openapi.json", "openapi.json is the catalog's own document");

export const validationModes = ["enforce", "warn"] as const;
export type ValidationMode = (typeof validationModes)[number];

export const maxExamples = 5;

export const eventTypeRecordSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  /** The current schema's JSON text (kept as text: a schema's keys may be anything JSON allows); absent: none. */
  schemaJson: z.string().optional(),
  /** How many times the schema changed: the version events are checked against (0: never had one). */
  version: z.number().int(),
  examplesJson: z.string().default("[]"),
  deprecated: z.boolean().default(false),
  validation: z.enum(validationModes).default("enforce"),
  definedAt: z.number(),
  changedAt: z.number(),
  /** A deleted type keeps its place (and its version count) so that a new one with its name numbers on. */
  deleted: z.boolean().default(false),
  /** Optimistic concurrency guard of the record itself. */
  rev: z.number().int().default(0),
});
export type EventTypeRecord = z.infer<typeof eventTypeRecordSchema>;

export const eventTypeVersionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  schemaJson: z.string().optional(),
  definedAt: z.number(),
});
export type EventTypeVersion = z.infer<typeof eventTypeVersionSchema>;

/** What every catalog read at ingestion starts from: one small item, read consistently for every event. */
export const catalogHeadSchema = z.object({
  /** Moved on by every catalog change: a task whose cached entries are older reads them again. */
  revision: z.number().int().default(0),
  /** Events whose type is not in the catalog (or that have none) are refused. */
  catalogRequired: z.boolean().default(false),
});
export type CatalogHead = z.infer<typeof catalogHeadSchema>;

export interface EventTypeInput {
  readonly description?: string | undefined;
  readonly schema?: unknown;
  readonly examples?: readonly unknown[] | undefined;
  readonly deprecated?: boolean | undefined;
  readonly validation?: ValidationMode | undefined;
}

/** JSON text with object keys sorted, so that one schema written in two key orders is one version. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * A PUT: the type as given (a full replacement), its schema version moved on when the schema changed (to none
 * included), and the new version's record when there is one. Re-creating a deleted type numbers on from it.
 */
export function putEventType(
  current: EventTypeRecord | undefined,
  name: string,
  input: EventTypeInput,
  now: number,
): { record: EventTypeRecord; created: boolean; newVersion?: EventTypeVersion } {
  const schemaJson = input.schema === undefined ? undefined : canonicalJson(input.schema);
  const live = current && !current.deleted ? current : undefined;
  // A deleted type keeps its last schema: re-created with the same one, it is the same version.
  const changed = current ? current.schemaJson !== schemaJson : schemaJson !== undefined;
  const version = (current?.version ?? 0) + (changed ? 1 : 0);
  const record: EventTypeRecord = {
    name,
    description: input.description,
    schemaJson,
    version,
    examplesJson: JSON.stringify(input.examples ?? []),
    deprecated: input.deprecated ?? false,
    validation: input.validation ?? "enforce",
    definedAt: live?.definedAt ?? now,
    changedAt: now,
    deleted: false,
    rev: (current?.rev ?? 0) + 1,
  };
  return {
    record,
    created: live === undefined,
    ...(changed ? { newVersion: { name, version, schemaJson, definedAt: now } } : {}),
  };
}
