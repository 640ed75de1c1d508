/** The tenant's newest events with their payloads: what a content filter is tried against before it is saved. */
import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import { listEvents } from "./read-events.ts";
import { bodyCodecSchema, decodeBody, type EventStore } from "./store.ts";

export interface RecentPayload {
  readonly eventId: string;
  readonly type: string | undefined;
  readonly createdAt: string;
  readonly body: Uint8Array;
}

/** Newest first, at most `limit` (≤ 100: one BatchGetItem). Operational tenants' and expired events are skipped. */
export async function recentPayloads(store: EventStore, tenantId: string, limit: number): Promise<RecentPayload[]> {
  const { items } = await listEvents(store, tenantId, { limit });
  if (items.length === 0) return [];
  let keys: Record<string, unknown>[] = items.map((e) => ({ tenantId, sk: e.eventId }));
  const bodies = new Map<string, Uint8Array>();
  // Unprocessed keys (throttling) are asked for again; a handful of rounds at most.
  for (let round = 0; keys.length > 0 && round < 5; round++) {
    const out = await store.ddb.send(
      new BatchGetCommand({
        RequestItems: {
          [store.table]: { Keys: keys, ProjectionExpression: "eventId, body, bodyCodec", ConsistentRead: false },
        },
      }),
    );
    for (const item of out.Responses?.[store.table] ?? [])
      bodies.set(String(item.eventId), decodeBody(item.body as Uint8Array, bodyCodecSchema.parse(item.bodyCodec)));
    keys = (out.UnprocessedKeys?.[store.table]?.Keys ?? []) as Record<string, unknown>[];
  }
  return items.flatMap((e) => {
    const body = bodies.get(e.eventId);
    return body ? [{ eventId: e.eventId, type: e.type, createdAt: e.createdAt, body }] : [];
  });
}
