/**
 * The delivery figures per minute, for the console's charts: one small item per minute in the events table under
 * a partition of its own (`#figures`: no tenant's, and not the `#system` lock's), which no index sees (its items
 * have none of the indexed attributes). Workers add their counts with one UpdateItem per minute per flush (every
 * few seconds, not per attempt), so the item stays far from DynamoDB's per-item write limit; the sweeper writes
 * the queue depths it reads. Kept two days.
 */
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import type { QueueDepth } from "./dead-letters.ts";
import type { EventStore } from "./events/store.ts";

const partition = "#figures";
const keepMs = 2 * 86_400_000;
const sk = (minute: number) => `m#${new Date(minute).toISOString().slice(0, 16)}`;

/** What a worker adds to a minute: attempts by what they led to, first attempts' latency counts per bucket. */
export interface FigureCounts {
  readonly delivered: number;
  readonly failed: number;
  readonly dead: number;
  /** First attempts per latency bucket (core/delivery-figures.ts's bounds, then the open bucket). */
  readonly firstAttempts: readonly number[];
}

export async function addFigures(store: EventStore, minute: number, counts: FigureCounts): Promise<void> {
  const values: Record<string, number> = {
    ":d": counts.delivered,
    ":f": counts.failed,
    ":x": counts.dead,
    ":ttl": Math.floor((minute + keepMs) / 1000),
  };
  const adds = ["delivered :d", "failed :f", "dead :x"];
  counts.firstAttempts.forEach((n, i) => {
    if (n === 0) return;
    values[`:b${i}`] = n;
    adds.push(`fa${i} :b${i}`);
  });
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { tenantId: partition, sk: sk(minute) },
      UpdateExpression: `ADD ${adds.join(", ")} SET #ttl = :ttl`,
      ExpressionAttributeNames: { "#ttl": "ttl" },
      ExpressionAttributeValues: values,
    }),
  );
}

/** The depths as last read in that minute (any worker's reading will do: they read the same queues). */
export async function recordDepth(
  store: EventStore,
  minute: number,
  depth: { queue: QueueDepth; dlq: QueueDepth },
): Promise<void> {
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { tenantId: partition, sk: sk(minute) },
      UpdateExpression: "SET qVisible = :v, qInFlight = :i, qDelayed = :d, dlq = :q, #ttl = :ttl",
      ExpressionAttributeNames: { "#ttl": "ttl" },
      ExpressionAttributeValues: {
        ":v": depth.queue.visible,
        ":i": depth.queue.in_flight,
        ":d": depth.queue.delayed,
        ":q": depth.dlq.visible + depth.dlq.in_flight,
        ":ttl": Math.floor((minute + keepMs) / 1000),
      },
    }),
  );
}

const itemSchema = z.looseObject({
  sk: z.string(),
  delivered: z.number().default(0),
  failed: z.number().default(0),
  dead: z.number().default(0),
  qVisible: z.number().optional(),
  qInFlight: z.number().optional(),
  qDelayed: z.number().optional(),
  dlq: z.number().optional(),
});

export interface MinuteFigures extends FigureCounts {
  readonly minute: number;
  readonly queue?: QueueDepth | undefined;
  readonly dlq?: number | undefined;
}

/** The minutes from `from` to `to` (epoch ms, both included) that have figures, oldest first. */
export async function readFigures(
  store: EventStore,
  from: number,
  to: number,
  buckets: number,
): Promise<MinuteFigures[]> {
  const out: MinuteFigures[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.ddb.send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: "tenantId = :p AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":p": partition, ":from": sk(from), ":to": sk(to) },
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = itemSchema.parse(raw);
      const bucket = (i: number) => (typeof raw[`fa${i}`] === "number" ? (raw[`fa${i}`] as number) : 0);
      out.push({
        minute: Date.parse(`${item.sk.slice(2)}:00Z`),
        delivered: item.delivered,
        failed: item.failed,
        dead: item.dead,
        firstAttempts: Array.from({ length: buckets }, (_, i) => bucket(i)),
        queue:
          item.qVisible === undefined
            ? undefined
            : { visible: item.qVisible, in_flight: item.qInFlight ?? 0, delayed: item.qDelayed ?? 0 },
        dlq: item.dlq,
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
