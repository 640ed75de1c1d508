/**
 * Each endpoint's health figures, for the tenant's portal: per ten minutes, attempts delivered and failed and their
 * durations per bucket, in one small item in the tenant's own partition (sk `#stats#<endpoint>#<step>`: outside
 * every event's key range, and in no index, having none of the indexed attributes). Workers add their counts with
 * one UpdateItem per item per flush, as they do the console's figures; one Query reads an endpoint's last day.
 * Kept two days.
 */
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { tenantKeepMs, type EventStore } from "./events/store.ts";
import type { EndpointKey } from "./tenants.ts";

const keepMs = 2 * 86_400_000;
const prefix = (endpointId: string) => `#stats#${endpointId}#`;
const sk = (endpointId: string, step: number) => `${prefix(endpointId)}${new Date(step).toISOString().slice(0, 16)}`;

/** What a worker adds to a step of an endpoint: attempts by result, attempt durations per bucket (core's attemptBucketsMs, then the open one). */
export interface EndpointCounts {
  readonly delivered: number;
  readonly failed: number;
  readonly durations: readonly number[];
}

export async function addEndpointFigures(
  store: EventStore,
  key: EndpointKey,
  step: number,
  counts: EndpointCounts,
): Promise<void> {
  const values: Record<string, number> = {
    ":d": counts.delivered,
    ":f": counts.failed,
    // Kept two days, or the tenant's retention if that is shorter.
    ":ttl": Math.floor((step + Math.min(keepMs, await tenantKeepMs(store, key.tenantId))) / 1000),
  };
  const adds = ["delivered :d", "failed :f"];
  counts.durations.forEach((n, i) => {
    if (n === 0) return;
    values[`:l${i}`] = n;
    adds.push(`l${i} :l${i}`);
  });
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { tenantId: key.tenantId, sk: sk(key.endpointId, step) },
      UpdateExpression: `ADD ${adds.join(", ")} SET #ttl = :ttl`,
      ExpressionAttributeNames: { "#ttl": "ttl" },
      ExpressionAttributeValues: values,
    }),
  );
}

const itemSchema = z.looseObject({ sk: z.string(), delivered: z.number().default(0), failed: z.number().default(0) });

/** The steps from `from` to `to` (epoch ms, both included) that have figures, oldest first. */
export async function readEndpointFigures(
  store: EventStore,
  key: EndpointKey,
  from: number,
  to: number,
  buckets: number,
): Promise<(EndpointCounts & { step: number })[]> {
  const out: (EndpointCounts & { step: number })[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.ddb.send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: "tenantId = :t AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: {
          ":t": key.tenantId,
          ":from": sk(key.endpointId, from),
          ":to": sk(key.endpointId, to),
        },
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = itemSchema.parse(raw);
      const bucket = (i: number) => (typeof raw[`l${i}`] === "number" ? (raw[`l${i}`] as number) : 0);
      out.push({
        step: Date.parse(`${item.sk.slice(prefix(key.endpointId).length)}:00Z`),
        delivered: item.delivered,
        failed: item.failed,
        durations: Array.from({ length: buckets }, (_, i) => bucket(i)),
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
