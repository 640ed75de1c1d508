/**
 * Erasing an event's payload on request: its unsettled deliveries are cancelled (settled DEAD with the reason, so no
 * worker sends it again and a requeue refuses it), then its body, the body's hash and the schema's remarks on it are
 * removed and `erasedAt` set, then the response excerpt of each attempt record. Ids, type, times and statuses stay.
 */
import { paginateQuery, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { abandon, isSettled } from "../../core/delivery-state.ts";
import { isConditionFailure } from "../errors.ts";
import { changeDeliveries } from "./change-deliveries.ts";
import type { EventKey, EventStore } from "./store.ts";

export const erasedReason = "cancelled: the payload was erased";

export interface ErasedPayload {
  readonly erasedAt: number;
  /** Endpoints whose pending deliveries were cancelled by this call. */
  readonly cancelled: string[];
  /** Attempt records whose response excerpt was removed by this call. */
  readonly excerptsRemoved: number;
}

/** Undefined when there is no such event. Erasing again finishes what an interrupted call left and changes nothing else. */
export async function erasePayload(store: EventStore, key: EventKey, now: number): Promise<ErasedPayload | undefined> {
  const out = await changeDeliveries(store, key, now, (state) => {
    const changes = Object.fromEntries(
      Object.entries(state.deliveries).flatMap(([id, d]) => {
        const next = isSettled(d.status) ? undefined : abandon(d, now, erasedReason);
        return next ? [[id, next] as const] : [];
      }),
    );
    return { changes, result: Object.keys(changes) };
  });
  if (!out.found) return undefined;
  let erasedAt: number;
  try {
    const { Attributes } = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { tenantId: key.tenantId, sk: key.eventId },
        // The first erasure's time is kept; the item must exist (an expired one is not brought back as a husk).
        UpdateExpression: "SET erasedAt = if_not_exists(erasedAt, :now) REMOVE body, bodyCodec, bodyHash, schemaErrors",
        ConditionExpression: "attribute_exists(sk)",
        ExpressionAttributeValues: { ":now": now },
        // ALL_NEW: moto leaves an attribute that if_not_exists kept out of UPDATED_NEW.
        ReturnValues: "ALL_NEW",
      }),
    );
    erasedAt = Number(Attributes?.erasedAt ?? now);
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
  return { erasedAt, cancelled: out.result, excerptsRemoved: await removeExcerpts(store, key) };
}

/** Every attempt record of the event loses its response excerpt (what a receiver answered may quote the payload). */
async function removeExcerpts(store: EventStore, key: EventKey): Promise<number> {
  let removed = 0;
  const pages = paginateQuery(
    { client: store.ddb },
    {
      TableName: store.table,
      KeyConditionExpression: "tenantId = :t AND begins_with(sk, :p)",
      FilterExpression: "attribute_exists(responseExcerpt)",
      ProjectionExpression: "sk",
      ExpressionAttributeValues: { ":t": key.tenantId, ":p": `${key.eventId}#` },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      await store.ddb.send(
        new UpdateCommand({
          TableName: store.table,
          Key: { tenantId: key.tenantId, sk: item.sk as string },
          UpdateExpression: "REMOVE responseExcerpt",
        }),
      );
      removed++;
    }
  }
  return removed;
}
