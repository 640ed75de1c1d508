/** The events table as stored: event items (with their deliveries map) and attempt items under them. */
import { promisify } from "node:util";
import { deflateRaw, deflateRawSync, inflateRawSync } from "node:zlib";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { deliverySchema, eventStatuses, type EventStatus } from "../../core/delivery-state.ts";
import { sha256Hex } from "../../core/ids.ts";
import { withinJsonBytes } from "../../core/json-budget.ts";
import { dueShards } from "../tables.ts";

export interface EventStore {
  readonly ddb: DynamoDBDocumentClient;
  readonly table: string;
  /**
   * How long settled events are kept before DynamoDB TTL removes them when the event does not carry its tenant's
   * retention (events stored before retention was per tenant); attempt records likewise.
   */
  readonly retention: { readonly deliveredMs: number; readonly deadMs: number };
  /**
   * The tenant's retention in ms as it is now (through a cache): what attempt records and health figures written now
   * are kept for. Absent: `retention.deliveredMs`.
   */
  readonly retentionOf?: ((tenantId: string) => Promise<number | undefined>) | undefined;
  /** The sweeper's grace (SWEEP_GRACE_MS): its index is written with it, so every writer must agree on it. */
  readonly sweepGraceMs: number;
}

/**
 * The DynamoDB TTL of a settled event (epoch s): its tenant's retention when the event carries it (`retentionMs`,
 * written when it was accepted); else a dead or skipped one is kept as long as dead ones (it waits for a recover), a
 * delivered one as long as delivered ones.
 */
export function settledTtl(
  store: EventStore,
  status: Exclude<EventStatus, "PENDING">,
  now: number,
  retentionMs?: number,
): number {
  const keep = retentionMs ?? (status === "DELIVERED" ? store.retention.deliveredMs : store.retention.deadMs);
  return Math.floor((now + keep) / 1000);
}

/** How long the tenant's items written now are kept (ms): its retention as it is now. */
export async function tenantKeepMs(store: EventStore, tenantId: string): Promise<number> {
  return (await store.retentionOf?.(tenantId)) ?? store.retention.deliveredMs;
}

export interface EventKey {
  readonly tenantId: string;
  readonly eventId: string;
}

/** How a stored body is encoded: absent, as received; `deflate`, raw DEFLATE of what was received. */
export const bodyCodecSchema = z.literal("deflate").optional();

/** A stored body as received: inflated when it was stored deflated. */
export function decodeBody(body: Uint8Array, codec: z.infer<typeof bodyCodecSchema>): Uint8Array {
  return codec === "deflate" && body.byteLength > 0 ? new Uint8Array(inflateRawSync(body)) : body;
}

/** Bodies from this size are deflated off the event loop (1.5 ms for 64 KiB of JSON; 0.05 ms for 1 KiB). */
const deflateAsyncFrom = 8192;
const deflateLater = promisify(deflateRaw);

/**
 * The attributes a body is stored as: deflated when that is smaller. Every write of an event item, its indexes'
 * entries aside, is billed by the item's size in KiB, and the item is written three times for a delivery made at
 * once (stored, leased, settled): a 1 KiB order payload deflates to 0.45 KiB, which keeps the whole item under 1 KiB.
 */
export async function encodeBody(body: Uint8Array): Promise<{ body: Uint8Array; bodyCodec?: "deflate" }> {
  const deflated = body.byteLength < deflateAsyncFrom ? deflateRawSync(body) : await deflateLater(body);
  return deflated.byteLength < body.byteLength ? { body: new Uint8Array(deflated), bodyCodec: "deflate" } : { body };
}

const storedEventSchema = z.object({
  tenantId: z.string(),
  eventId: z.string(),
  type: z.string().optional(),
  /** The exact bytes received, which are the exact bytes signed and sent (none once erased). */
  body: z.custom<Uint8Array>((v) => v instanceof Uint8Array).default(() => new Uint8Array(0)),
  bodyHash: z.string().default(""),
  /** When its payload was erased on request (epoch ms): body, hash and excerpts are gone, ids and times stay. */
  erasedAt: z.number().optional(),
  createdAt: z.string(),
  status: z.enum(eventStatuses),
  deliveries: z.record(z.string(), deliverySchema),
  version: z.number(),
  /** Its tenant's retention when it was accepted: how long it is kept once settled (absent: the store's default). */
  retentionMs: z.number().optional(),
  /** The version of its type's schema the payload was checked against (absent: not checked). */
  schemaVersion: z.number().optional(),
  /** Where the payload did not conform, when its type's schema only warns (at most 10). */
  schemaErrors: z.array(z.object({ pointer: z.string(), message: z.string() })).optional(),
  /** Its `Ordering-Key` (core/ordering.ts): delivered to each endpoint after the key's earlier events. */
  orderingKey: z.string().optional(),
  /** Endpoints whose event-type filter matched but whose content filter did not: no delivery was made for them. */
  filteredOut: z.array(z.string()).optional(),
  bodyCodec: bodyCodecSchema,
});
/** An event item as read: its body as received, whatever it was stored as. */
export const eventItemSchema = storedEventSchema.transform(({ bodyCodec, ...event }) =>
  bodyCodec === undefined ? event : { ...event, body: decodeBody(event.body, bodyCodec) },
);
export type EventItem = z.infer<typeof eventItemSchema>;

export const attemptItemSchema = z.object({
  eventId: z.string(),
  endpointId: z.string(),
  attempt: z.number(),
  at: z.number(),
  durationMs: z.number(),
  statusCode: z.number().optional(),
  error: z.string().optional(),
  responseExcerpt: z.string().optional(),
});
export type AttemptItem = z.infer<typeof attemptItemSchema>;

/** A response excerpt at most, as JSON: 4 KiB of text, or a sixth of that in control bytes (each sent as `\u0001`). */
export const maxExcerptJsonBytes = 4096;
/** An attempt's error text at most, as JSON (ours, but it may quote what a receiver's TLS or HTTP stack said). */
export const maxErrorJsonBytes = 512;

/**
 * The attempt with what a receiver wrote into it cut to its byte budget: applied when a record is written and again
 * when one is read, so records stored before the budget are sent within it too.
 */
export function boundedAttempt(a: AttemptItem): AttemptItem {
  return {
    ...a,
    ...(a.responseExcerpt === undefined
      ? {}
      : { responseExcerpt: withinJsonBytes(a.responseExcerpt, maxExcerptJsonBytes) }),
    ...(a.error === undefined ? {} : { error: withinJsonBytes(a.error, maxErrorJsonBytes) }),
  };
}

/** Sort key of attempt n of a delivery: sorts right after its event, so one Query reads the whole story. */
export function attemptSk(eventId: string, endpointId: string, attempt: number): string {
  return `${eventId}#${endpointId}#${String(attempt).padStart(4, "0")}`;
}

/**
 * The by-status index's key of an event in `status`, or none: delivered events, most of all events and their usual
 * end, are left out of that index (listed from by-created, filtered on the status it projects), so delivering an
 * event at once writes the index once (its PENDING entry and that entry's removal) instead of three times.
 */
export function statusKey(tenantId: string, status: Exclude<EventStatus, "DELIVERED">): string;
export function statusKey(tenantId: string, status: EventStatus): string | undefined;
export function statusKey(tenantId: string, status: EventStatus): string | undefined {
  return status === "DELIVERED" ? undefined : `${tenantId}#${status}`;
}

export function dueShardOf(eventId: string): string {
  return String(parseInt(sha256Hex(eventId).slice(0, 4), 16) % dueShards);
}
