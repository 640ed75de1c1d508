/**
 * Lanes as stored (core/ordering.ts): one item per (tenant, endpoint, key) under the tenant's partition, holding the
 * ids of the events waiting in it, oldest first, and since when its head has been the head. Joining appends under a
 * condition (not already in it, not full), so the list's order is the order of those conditional writes; the head
 * leaves only under a condition naming it. An empty lane is deleted. Lane items carry none of the indexes' keys.
 */
import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { maxLaneLength } from "../../core/ordering.ts";
import { isConditionFailure } from "../errors.ts";
import type { EventStore } from "./store.ts";

export interface LaneKey {
  readonly tenantId: string;
  readonly endpointId: string;
  readonly orderingKey: string;
}

const lanePrefix = (endpointId: string) => `#lane#${endpointId}#`;
const laneItemKey = (k: LaneKey) => ({ tenantId: k.tenantId, sk: `${lanePrefix(k.endpointId)}${k.orderingKey}` });

const laneSchema = z.object({ sk: z.string(), waiting: z.array(z.string()), since: z.number() });
export interface Lane {
  readonly orderingKey: string;
  /** Event ids, the head first. */
  readonly waiting: readonly string[];
  /** Epoch ms since which the head has been the head. */
  readonly since: number;
}

function laneOf(item: Record<string, unknown> | undefined, endpointId: string): Lane | undefined {
  if (!item) return undefined;
  const { sk, waiting, since } = laneSchema.parse(item);
  return { orderingKey: sk.slice(lanePrefix(endpointId).length), waiting, since };
}

export async function readLane(store: EventStore, k: LaneKey): Promise<Lane | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: laneItemKey(k), ConsistentRead: true }),
  );
  return laneOf(Item, k.endpointId);
}

export type Joined = { readonly ok: true; readonly position: number } | { readonly ok: false; readonly full: true };

/** Appends the event to its lane (where it already is, answers its place): 0 means it is the head. */
export async function joinLane(store: EventStore, k: LaneKey, eventId: string, now: number): Promise<Joined> {
  try {
    const { Attributes } = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: laneItemKey(k),
        UpdateExpression:
          "SET waiting = list_append(if_not_exists(waiting, :none), :me), since = if_not_exists(since, :now)",
        ConditionExpression: "attribute_not_exists(waiting) OR (NOT contains(waiting, :id) AND size(waiting) < :max)",
        ExpressionAttributeValues: {
          ":none": [],
          ":me": [eventId],
          ":id": eventId,
          ":now": now,
          ":max": maxLaneLength,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return { ok: true, position: laneSchema.parse(Attributes).waiting.length - 1 };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const lane = await readLane(store, k);
  const position = lane?.waiting.indexOf(eventId) ?? -1;
  if (position >= 0) return { ok: true, position };
  // Emptied and deleted between the write and the read: join the lane made afresh.
  return lane ? { ok: false, full: true } : joinLane(store, k, eventId, now);
}

/**
 * Takes the head out when it is `eventId`: answers the lane after (undefined when the head was another, or the lane
 * is gone). A lane left empty is deleted, unless someone joined meanwhile.
 */
export async function leaveLane(
  store: EventStore,
  k: LaneKey,
  eventId: string,
  now: number,
): Promise<Lane | undefined> {
  let lane: Lane | undefined;
  try {
    const { Attributes } = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: laneItemKey(k),
        UpdateExpression: "REMOVE waiting[0] SET since = :now",
        ConditionExpression: "waiting[0] = :id",
        ExpressionAttributeValues: { ":id": eventId, ":now": now },
        ReturnValues: "ALL_NEW",
      }),
    );
    lane = laneOf(Attributes, k.endpointId);
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    return undefined;
  }
  if (lane?.waiting.length === 0) {
    await store.ddb
      .send(
        new DeleteCommand({
          TableName: store.table,
          Key: laneItemKey(k),
          ConditionExpression: "size(waiting) = :zero",
          ExpressionAttributeValues: { ":zero": 0 },
        }),
      )
      .catch((err: unknown) => {
        if (!isConditionFailure(err)) throw err;
      });
  }
  return lane;
}

/** An endpoint's lanes with events waiting, a page at a time in key order. */
export async function endpointLanes(
  store: EventStore,
  tenantId: string,
  endpointId: string,
  limit: number,
  after?: string,
): Promise<{ lanes: Lane[]; next?: string | undefined }> {
  const { Items = [], LastEvaluatedKey } = await store.ddb.send(
    new QueryCommand({
      TableName: store.table,
      KeyConditionExpression: "tenantId = :t AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":t": tenantId, ":prefix": lanePrefix(endpointId) },
      Limit: limit,
      ...(after ? { ExclusiveStartKey: laneItemKey({ tenantId, endpointId, orderingKey: after }) } : {}),
    }),
  );
  const lanes = Items.map((item) => laneOf(item, endpointId)!);
  return { lanes, next: LastEvaluatedKey ? lanes.at(-1)?.orderingKey : undefined };
}
