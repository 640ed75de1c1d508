/** Reading events: one event with its recent attempts, a page of a delivery's attempts, a page of a tenant's events. */
import { GetCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { deliverySchema, eventStatuses, type Delivery, type EventStatus } from "../../core/delivery-state.ts";
import { isId } from "../../core/ids.ts";
import { encodeCursor, rejectedCursor } from "../cursor.ts";
import { dueShards, eventIndexes } from "../tables.ts";
import {
  attemptItemSchema,
  attemptSk,
  boundedAttempt,
  eventItemSchema,
  statusKey,
  type AttemptItem,
  type EventItem,
  type EventKey,
  type EventStore,
} from "./store.ts";

export async function getEventForDelivery(store: EventStore, key: EventKey): Promise<EventItem | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { tenantId: key.tenantId, sk: key.eventId }, ConsistentRead: true }),
  );
  return Item ? eventItemSchema.parse(Item) : undefined;
}

/**
 * Attempts of each delivery an event read carries: the rest are paged (attemptLogPage). With at most 50 deliveries
 * and each excerpt within its budget, an event read stays near 1 MiB however the receivers answered.
 */
export const recentAttempts = 5;

/** Where a page of a delivery's attempt log starts: below this attempt number. */
export const attemptCursorSchema = z.object({ before: z.number().int().min(1).max(9999) });

export interface AttemptPage {
  /** Newest first. */
  readonly items: AttemptItem[];
  /** The cursor to the older ones; null when these are the oldest. */
  readonly nextCursor: string | null;
}

/**
 * One page of a delivery's attempt log, newest first: a single Query of at most `limit + 1` records (the one
 * beyond says whether there are older ones), however many attempts retries and requeues have piled up.
 */
export async function attemptLogPage(
  store: EventStore,
  key: EventKey & { readonly endpointId: string },
  page: { limit: number; before?: number | undefined },
): Promise<AttemptPage> {
  const { Items = [] } = await store.ddb.send(
    new QueryCommand({
      TableName: store.table,
      KeyConditionExpression: "tenantId = :t AND sk BETWEEN :first AND :last",
      ExpressionAttributeValues: {
        ":t": key.tenantId,
        ":first": attemptSk(key.eventId, key.endpointId, 0),
        ":last": attemptSk(key.eventId, key.endpointId, (page.before ?? 10_000) - 1),
      },
      ScanIndexForward: false,
      Limit: page.limit + 1,
    }),
  );
  const items = Items.slice(0, page.limit).map((i) => boundedAttempt(attemptItemSchema.parse(i)));
  const oldest = items.at(-1);
  return { items, nextCursor: Items.length > page.limit && oldest ? encodeCursor({ before: oldest.attempt }) : null };
}

/**
 * The event and the newest `recentAttempts` attempts of each of its deliveries. What one read loads is bounded
 * (at most 50 endpoints x 6 records, each within its byte budget) whatever the event's history: older attempts are
 * read a page at a time.
 */
export async function getEventWithAttempts(
  store: EventStore,
  key: EventKey,
): Promise<{ event: EventItem; attempts: Record<string, AttemptPage> } | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { tenantId: key.tenantId, sk: key.eventId } }),
  );
  if (!Item) return undefined;
  const event = eventItemSchema.parse(Item);
  const attempts: Record<string, AttemptPage> = {};
  const endpointIds = Object.keys(event.deliveries);
  // Ten Queries at a time: an event fanned out to many endpoints does not become a burst of reads.
  for (let i = 0; i < endpointIds.length; i += 10) {
    await Promise.all(
      endpointIds.slice(i, i + 10).map(async (endpointId) => {
        attempts[endpointId] = await attemptLogPage(store, { ...key, endpointId }, { limit: recentAttempts });
      }),
    );
  }
  return { event, attempts };
}

export const eventSummarySchema = z.object({
  eventId: z.string(),
  type: z.string().optional(),
  status: z.enum(eventStatuses),
  createdAt: z.string(),
});
export type EventSummary = z.infer<typeof eventSummarySchema>;

// The cursor names only the position inside this tenant's index; the tenant always comes from the key. Its
// values are checked for the shapes DynamoDB stores (an event id, an ISO time), so a forged one is refused early.
export const eventCursorSchema = z.object({
  sk: z.string().refine((s) => isId("evt", s)),
  createdAt: z.iso.datetime(),
});

export interface ListOptions {
  readonly status?: EventStatus | undefined;
  /** Only events of this type: filtered after the index is read, so a page may come back short (or empty, with a cursor). */
  readonly type?: string | undefined;
  readonly limit: number;
  readonly after?: z.infer<typeof eventCursorSchema> | undefined;
}

/**
 * Newest first, from the by-status index, or by-created for no status or DELIVERED (not in by-status: see statusKey):
 * no scan, cost independent of table size. A filter (a type, or DELIVERED) reads what it skips, so a page may come
 * back short, or empty with a cursor.
 */
export async function listEvents(
  store: EventStore,
  tenantId: string,
  opts: ListOptions,
): Promise<{ items: EventSummary[]; nextCursor: string | null }> {
  const partition = opts.status === undefined ? undefined : statusKey(tenantId, opts.status);
  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ":p": partition ?? tenantId };
  if (opts.type !== undefined) {
    filters.push("#type = :type");
    names["#type"] = "type";
    values[":type"] = opts.type;
  }
  if (opts.status !== undefined && partition === undefined) {
    filters.push("#status = :status");
    names["#status"] = "status";
    values[":status"] = opts.status;
  }
  const page = await store.ddb
    .send(
      new QueryCommand({
        TableName: store.table,
        IndexName: partition ? eventIndexes.byStatus : eventIndexes.byCreated,
        KeyConditionExpression: partition ? "tenantStatus = :p" : "tenantId = :p",
        ...(filters.length ? { FilterExpression: filters.join(" AND "), ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: opts.limit,
        ...(opts.after
          ? {
              ExclusiveStartKey: {
                ...(partition ? { tenantStatus: partition } : {}),
                tenantId,
                sk: opts.after.sk,
                createdAt: opts.after.createdAt,
              },
            }
          : {}),
      }),
    )
    .catch(rejectedCursor(opts.after));
  const last = page.LastEvaluatedKey ? eventCursorSchema.parse(page.LastEvaluatedKey) : undefined;
  const nextCursor = last ? encodeCursor({ sk: last.sk, createdAt: last.createdAt }) : null;
  return { items: (page.Items ?? []).map((i) => eventSummarySchema.parse(i)), nextCursor };
}

/** Events with an unsettled delivery due before `before`, oldest due first, from one shard of the sparse by-due index. */
export async function findOverdueEvents(
  store: EventStore,
  shard: string,
  before: number,
  limit: number,
): Promise<(EventKey & { dueAt: number })[]> {
  const page = await store.ddb.send(
    new QueryCommand({
      TableName: store.table,
      IndexName: eventIndexes.byDue,
      KeyConditionExpression: "dueShard = :s AND dueAt < :b",
      ExpressionAttributeValues: { ":s": shard, ":b": before },
      Limit: limit,
    }),
  );
  return (page.Items ?? []).map((i) => ({
    tenantId: String(i.tenantId),
    eventId: String(i.sk),
    dueAt: Number(i.dueAt),
  }));
}

export interface CreatedBetween {
  /** ISO times, inclusive; `until` open-ended when absent. */
  readonly since: string;
  readonly until?: string | undefined;
  readonly limit: number;
  readonly after?: EventCursor | undefined;
}

export type EventCursor = z.infer<typeof eventCursorSchema>;

/**
 * One page (at most `limit`, one Query) of the ids of the tenant's events in `status` created in a time range,
 * oldest first, and where the next page starts (undefined after the last).
 */
export async function eventsByStatus(
  store: EventStore,
  tenantId: string,
  status: Exclude<EventStatus, "DELIVERED">,
  range: CreatedBetween,
): Promise<{ events: Pick<EventSummary, "eventId" | "createdAt">[]; next: EventCursor | undefined }> {
  const partition = statusKey(tenantId, status);
  const page = await store.ddb
    .send(
      new QueryCommand({
        TableName: store.table,
        IndexName: eventIndexes.byStatus,
        KeyConditionExpression:
          range.until === undefined
            ? "tenantStatus = :p AND createdAt >= :since"
            : "tenantStatus = :p AND createdAt BETWEEN :since AND :until",
        ExpressionAttributeValues: {
          ":p": partition,
          ":since": range.since,
          ...(range.until === undefined ? {} : { ":until": range.until }),
        },
        Limit: range.limit,
        ...(range.after ? { ExclusiveStartKey: { tenantStatus: partition, tenantId, ...range.after } } : {}),
      }),
    )
    .catch(rejectedCursor(range.after));
  return {
    events: (page.Items ?? []).map((i) => eventSummarySchema.pick({ eventId: true, createdAt: true }).parse(i)),
    // The schema keeps only the position in this tenant's partition (the key's other attributes are dropped).
    next: page.LastEvaluatedKey ? eventCursorSchema.parse(page.LastEvaluatedKey) : undefined,
  };
}

/** One delivery of an event as stored (a projection: not the body), or undefined when there is none. */
export async function deliveryOf(
  store: EventStore,
  key: EventKey & { readonly endpointId: string },
  consistent = false,
): Promise<Delivery | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({
      TableName: store.table,
      Key: { tenantId: key.tenantId, sk: key.eventId },
      ProjectionExpression: "#d.#e",
      ExpressionAttributeNames: { "#d": "deliveries", "#e": key.endpointId },
      ConsistentRead: consistent,
    }),
  );
  const d: unknown = (Item?.deliveries as Record<string, unknown> | undefined)?.[key.endpointId];
  return d === undefined ? undefined : deliverySchema.parse(d);
}

/** The earliest due time of any unsettled delivery (the head of the backlog), from the by-due index. */
export async function oldestDue(store: EventStore): Promise<number | undefined> {
  const heads = await Promise.all(
    Array.from({ length: dueShards }, (_, shard) =>
      store.ddb.send(
        new QueryCommand({
          TableName: store.table,
          IndexName: eventIndexes.byDue,
          KeyConditionExpression: "dueShard = :s",
          ExpressionAttributeValues: { ":s": String(shard) },
          Limit: 1,
        }),
      ),
    ),
  );
  const due = heads.flatMap((p) => (p.Items ?? []).map((i) => Number(i.dueAt)));
  return due.length ? Math.min(...due) : undefined;
}

const openEventSchema = z.object({
  tenantId: z.string(),
  sk: z.string(),
  deliveries: z.record(z.string(), deliverySchema),
});

/**
 * Every event with an unsettled or a dead delivery, page by page: a Scan of the whole table, so only for
 * rebuilding a local stack's queues from DynamoDB, never for a production path.
 */
export async function* scanOpenEvents(
  store: EventStore,
): AsyncGenerator<EventKey & { deliveries: Record<string, Delivery> }> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.ddb.send(
      new ScanCommand({
        TableName: store.table,
        FilterExpression: "#s IN (:pending, :dead)",
        ProjectionExpression: "tenantId, sk, deliveries",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":pending": "PENDING", ":dead": "DEAD" },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const { tenantId, sk, deliveries } = openEventSchema.parse(item);
      yield { tenantId, eventId: sk, deliveries };
    }
    start = page.LastEvaluatedKey;
  } while (start);
}
