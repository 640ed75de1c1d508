/**
 * An endpoint's rate limit across every worker task: its schedule (core's GCRA `tat`) is one attribute of one
 * item under the tenant's partition, moved on by a conditional update per delivery, so no two tasks can take
 * the same turn. A turn up to `horizonMs` ahead is reserved, and the delivery waits for it: deliveries leave on
 * the schedule, so the limit holds exactly whatever the number of tasks, and is also reached.
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { rateShape, decideRateTurn, type RateDecision } from "../../core/endpoint-pacing.ts";
import { isConditionFailure } from "../errors.ts";
import type { EventStore } from "./store.ts";

export interface RateKey {
  readonly tenantId: string;
  readonly endpointId: string;
}

/** Sort key of an endpoint's rate item: outside every event's key range and in no index (it has no index keys). */
const rateSk = (endpointId: string) => `#rate#${endpointId}`;

export async function takeRateTurn(
  store: EventStore,
  key: RateKey,
  now: number,
  perSecond: number,
  horizonMs: number,
): Promise<RateDecision> {
  const shape = rateShape(perSecond);
  const Key = { tenantId: key.tenantId, sk: rateSk(key.endpointId) };
  const update = (expression: string, condition: string, values: Record<string, number>) =>
    store.ddb
      .send(
        new UpdateCommand({
          TableName: store.table,
          Key,
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: "UPDATED_OLD",
        }),
      )
      .then(
        ({ Attributes }) => (typeof Attributes?.tat === "number" ? Attributes.tat : undefined),
        (err: unknown) => {
          if (isConditionFailure(err)) return null;
          throw err;
        },
      );
  // The busy case: the schedule runs ahead of now, within reach: it moves one interval on.
  const busy = await update("SET tat = tat + :i", "tat >= :now AND tat <= :reach", {
    ":i": shape.intervalMs,
    ":now": now,
    ":reach": now + shape.toleranceMs + horizonMs,
  });
  if (busy !== null) return decideRateTurn(busy, now, shape, horizonMs);
  // The idle case: the schedule is behind now, or new: it restarts from now.
  const idle = await update("SET tat = :next", "attribute_not_exists(tat) OR tat < :now", {
    ":next": now + shape.intervalMs,
    ":now": now,
  });
  if (idle !== null) return { ok: true, tat: now + shape.intervalMs, at: now };
  // Both refused: the schedule is beyond reach (or moved between the two tries); read it to say until when.
  const { Item } = await store.ddb.send(new GetCommand({ TableName: store.table, Key, ConsistentRead: true }));
  const decision = decideRateTurn(typeof Item?.tat === "number" ? Item.tat : undefined, now, shape, horizonMs);
  return decision.ok ? { ok: false, retryAt: now } : decision;
}
