/** Storing a newly accepted event, once: invariant 1 starts here (stored before the 201). */
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { nextDue, summarize } from "../../core/delivery-state.ts";
import { isConditionFailure } from "../errors.ts";
import {
  dueShardOf,
  encodeBody,
  eventItemSchema,
  settledTtl,
  statusKey,
  type EventItem,
  type EventStore,
} from "./store.ts";

export type CreateResult = { readonly created: true } | { readonly created: false; readonly existing: EventItem };

export async function createEvent(store: EventStore, event: EventItem, now: number): Promise<CreateResult> {
  const status = summarize(event.deliveries);
  const due = nextDue(event.deliveries, store.sweepGraceMs);
  const ttl = status === "PENDING" ? {} : { ttl: settledTtl(store, status, now, event.retentionMs) };
  const tenantStatus = statusKey(event.tenantId, status);
  const item = {
    ...event,
    ...(await encodeBody(event.body)),
    sk: event.eventId,
    status,
    ...(tenantStatus === undefined ? {} : { tenantStatus }),
    ...(due === undefined ? {} : { dueAt: due, dueShard: dueShardOf(event.eventId) }),
    ...ttl,
  };
  try {
    // An Idempotency-Key maps to a fixed event id: the first write wins, a repeat reads it back.
    await store.ddb.send(
      new PutCommand({ TableName: store.table, Item: item, ConditionExpression: "attribute_not_exists(sk)" }),
    );
    return { created: true };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const { Item } = await store.ddb.send(
    new GetCommand({
      TableName: store.table,
      Key: { tenantId: event.tenantId, sk: event.eventId },
      ConsistentRead: true,
    }),
  );
  const existing = eventItemSchema.parse(Item);
  // Our own write, whose answer was lost and which the SDK sent again: the same request's time and body. (Two
  // requests with one key and body in the same millisecond would both be answered 201: still one event.)
  if (existing.createdAt === event.createdAt && existing.bodyHash === event.bodyHash) return { created: true };
  return { created: false, existing };
}

/** Takes back an event just stored that cannot be accepted after all (no message was sent for it yet). */
export async function withdrawEvent(store: EventStore, key: { tenantId: string; eventId: string }): Promise<void> {
  await store.ddb.send(
    new DeleteCommand({
      TableName: store.table,
      Key: { tenantId: key.tenantId, sk: key.eventId },
      ConditionExpression: "version = :zero",
      ExpressionAttributeValues: { ":zero": 0 },
    }),
  );
}
