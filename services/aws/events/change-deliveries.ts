/**
 * Every delivery state change goes through one optimistic read-modify-write on the event item,
 * guarded by its `version`: concurrent workers on one event never lose each other's change, the
 * summary status and the sweeper's due time always match the deliveries map (invariants 2 and 3).
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { deliverySchema, isOverdue, nextDue, summarize, type Delivery } from "../../core/delivery-state.ts";
import { isConditionFailure } from "../errors.ts";
import { dueShardOf, settledTtl, statusKey, type EventKey, type EventStore } from "./store.ts";

const stateSchema = z.object({
  deliveries: z.record(z.string(), deliverySchema),
  version: z.number(),
  /** The event's ordering key (core/ordering.ts), if it has one. */
  orderingKey: z.string().optional(),
  /** The tenant's retention written with the event: its TTL once settled. */
  retentionMs: z.number().optional(),
  /** Set once its payload is erased: nothing of it is sent again. */
  erasedAt: z.number().optional(),
});
export type DeliveriesState = z.infer<typeof stateSchema>;

export interface Change<R> {
  /** Deliveries to overwrite, by endpoint id; none means no write. */
  readonly changes?: Readonly<Record<string, Delivery>> | undefined;
  readonly result: R;
}

const maxRaces = 25;

/**
 * `known` is state the caller has just read or written itself: the first try uses it instead of a read,
 * and a concurrent change since then only costs a retry (the version guard catches it).
 */
export async function changeDeliveries<R>(
  store: EventStore,
  key: EventKey,
  now: number,
  decide: (state: DeliveriesState) => Change<R>,
  known?: DeliveriesState,
): Promise<{ found: false } | { found: true; result: R }> {
  for (let race = 0; race < maxRaces; race++) {
    let state: DeliveriesState;
    if (race === 0 && known) state = known;
    else {
      const { Item } = await store.ddb.send(
        new GetCommand({
          TableName: store.table,
          Key: { tenantId: key.tenantId, sk: key.eventId },
          ProjectionExpression: "deliveries, version, orderingKey, retentionMs, erasedAt",
          ConsistentRead: true,
        }),
      );
      if (!Item) return { found: false };
      state = stateSchema.parse(Item);
    }
    const { changes, result } = decide(state);
    if (!changes || Object.keys(changes).length === 0) return { found: true, result };
    try {
      await store.ddb.send(new UpdateCommand(updateFor(store, key, state, changes, now)));
      return { found: true, result };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Another writer changed this event since we read it: decide again on fresh state.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (race + 1)));
    }
  }
  throw new Error(`event ${key.eventId} is too contended to update`);
}

function updateFor(
  store: EventStore,
  key: EventKey,
  state: DeliveriesState,
  changes: Readonly<Record<string, Delivery>>,
  now: number,
) {
  const deliveries = { ...state.deliveries, ...changes };
  const status = summarize(deliveries);
  const due = nextDue(deliveries, store.sweepGraceMs);
  const names: Record<string, string> = { "#d": "deliveries", "#s": "status", "#v": "version" };
  const values: Record<string, unknown> = { ":v0": state.version, ":v1": state.version + 1, ":s": status };
  const sets = ["#s = :s", "#v = :v1"];
  const removes: string[] = [];
  const tenantStatus = statusKey(key.tenantId, status);
  if (tenantStatus === undefined) removes.push("tenantStatus");
  else {
    sets.push("tenantStatus = :ts");
    values[":ts"] = tenantStatus;
  }
  Object.entries(changes).forEach(([endpointId, delivery], i) => {
    names[`#e${i}`] = endpointId;
    values[`:d${i}`] = delivery;
    sets.push(`#d.#e${i} = :d${i}`);
  });
  if (due === undefined) removes.push("dueAt", "dueShard");
  else {
    sets.push("dueAt = :due", "dueShard = :shard");
    values[":due"] = due;
    values[":shard"] = dueShardOf(key.eventId);
  }
  names["#ttl"] = "ttl";
  if (status === "PENDING") removes.push("#ttl");
  else {
    sets.push("#ttl = :ttl");
    values[":ttl"] = settledTtl(store, status, now, state.retentionMs);
  }
  return {
    TableName: store.table,
    Key: { tenantId: key.tenantId, sk: key.eventId },
    UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
    ConditionExpression: "#v = :v0",
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The sweeper's work: deliveries whose message was lost on the way, and parked ones now due. */
export function overdue(state: DeliveriesState, now: number, graceMs: number): string[] {
  return Object.entries(state.deliveries)
    .filter(([, d]) => isOverdue(d, now, graceMs))
    .map(([endpointId]) => endpointId);
}
