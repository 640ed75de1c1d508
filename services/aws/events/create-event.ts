/** Storing a newly accepted event, once: invariant 1 starts here (stored before the 201). */
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { nextDue, summarize } from "../../core/delivery-state.ts";
import { batchWrite } from "../batch-write.ts";
import { createBatcher } from "../batcher.ts";
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

/** The event as its item: its body as stored, its status, index keys and, when settled already, its TTL. */
async function itemOf(store: EventStore, event: EventItem, now: number): Promise<Record<string, unknown>> {
  const status = summarize(event.deliveries);
  const due = nextDue(event.deliveries, store.sweepGraceMs);
  const tenantStatus = statusKey(event.tenantId, status);
  return {
    ...event,
    ...(await encodeBody(event.body)),
    sk: event.eventId,
    status,
    ...(tenantStatus === undefined ? {} : { tenantStatus }),
    ...(due === undefined ? {} : { dueAt: due, dueShard: dueShardOf(event.eventId) }),
    ...(status === "PENDING" ? {} : { ttl: settledTtl(store, status, now, event.retentionMs) }),
  };
}

/**
 * Stores events whose id was minted for them (no Idempotency-Key): no earlier write can hold it, so they need no
 * condition, and the items of concurrent requests go out in BatchWriteItem calls of up to 25 (a lone one at once, as a
 * PutItem): under load the API makes one DynamoDB call for many events instead of one each. A call that fails is
 * made again item by item, so each request learns its own item's fate (writing an item twice writes the same bytes,
 * and no worker knows of it before its request's messages are sent).
 */
export function freshEventWriter(store: EventStore): (event: EventItem, now: number) => Promise<void> {
  type Pending = { readonly item: Record<string, unknown>; error?: unknown };
  const putEach = (batch: readonly Pending[]) =>
    Promise.all(
      batch.map((p) =>
        store.ddb.send(new PutCommand({ TableName: store.table, Item: p.item })).catch((err: unknown) => {
          p.error = err;
        }),
      ),
    );
  const write = createBatcher<Pending>(
    async (batch) => {
      if (batch.length === 1) await putEach(batch);
      else {
        const requests = batch.map(({ item }) => ({ PutRequest: { Item: item } }));
        await batchWrite(store.ddb, store.table, requests).catch(() => putEach(batch));
      }
      return batch.map((p) => p.error === undefined);
    },
    25,
    0,
  );
  return async (event, now) => {
    const pending: Pending = { item: await itemOf(store, event, now) };
    if (!(await write(pending))) throw pending.error;
  };
}

export async function createEvent(store: EventStore, event: EventItem, now: number): Promise<CreateResult> {
  const item = await itemOf(store, event, now);
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
