/**
 * Erasing a tenant and everything of it, as a bounded, resumable job: each step removes at most `limit` items and
 * records where it got to in a job item (`#system` partition, `sk` = `erase#<tenant>`), so a step cut short (a task
 * stopped, a throttle) is simply run again. Phases, in order: the tenant is soft-deleted at once (its keys stop, its
 * deliveries are abandoned), then its API keys, every item of its partition of the events table (events, attempt
 * records, figures, rate schedules, catalog, audit entries), the operators' copies of its audit entries, its messages
 * in the DLQ, and last the tenant item and the job item. Answers progress, and the report of what was removed.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { eraseAction } from "../core/audit.ts";
import { softDeleteTenant } from "../core/tenant.ts";
import { apiKeyIndexes } from "./tables.ts";
import type { ApiKeyStore } from "./api-keys.ts";
import { operatorPartition } from "./audit-log.ts";
import { parseDeliveryMessage, type DeliveryQueue } from "./delivery-queue.ts";
import { deleteDeadLetter, receiveDeadLetters, releaseDeadLetters } from "./dead-letters.ts";
import type { EventStore } from "./events/store.ts";
import { changeTenant, type TenantStore } from "./tenants.ts";
import { batchWrite } from "./batch-write.ts";

const systemPartition = "#system";

const phases = ["api-keys", "events", "audit", "dead-letters", "tenant", "done"] as const;
const removedSchema = z.object({
  api_keys: z.number().default(0),
  events: z.number().default(0),
  attempt_records: z.number().default(0),
  audit_entries: z.number().default(0),
  other_items: z.number().default(0),
  dead_letters: z.number().default(0),
});
export type Removed = z.infer<typeof removedSchema>;

const jobSchema = z.object({
  phase: z.enum(phases),
  startedAt: z.number(),
  removed: removedSchema,
  /** Where the audit phase's Query of the operators' partition goes on. */
  auditCursor: z.string().optional(),
});
export type EraseJob = z.infer<typeof jobSchema> & { readonly finishedAt?: number };

export interface EraseStores {
  readonly tenants: TenantStore;
  readonly apiKeys: ApiKeyStore;
  readonly events: EventStore;
  readonly queue: DeliveryQueue;
}

const jobKey = (tenantId: string) => ({ tenantId: systemPartition, sk: `erase#${tenantId}` });

/** The job as stored, or undefined when none is under way. */
export async function eraseJob(s: EraseStores, tenantId: string): Promise<EraseJob | undefined> {
  const { Item } = await s.events.ddb.send(
    new GetCommand({ TableName: s.events.table, Key: jobKey(tenantId), ConsistentRead: true }),
  );
  return Item ? jobSchema.parse(Item) : undefined;
}

/** Starts the job (soft-deleting the tenant) unless it is under way; undefined when there is no such tenant. */
export async function startErase(s: EraseStores, tenantId: string, now: number): Promise<EraseJob | undefined> {
  const existing = await eraseJob(s, tenantId);
  if (existing) return existing;
  const tenant = await changeTenant(s.tenants, tenantId, (t) =>
    t.status === "deleted" ? undefined : softDeleteTenant(t),
  );
  if (!tenant) return undefined;
  const job: EraseJob = { phase: "api-keys", startedAt: now, removed: removedSchema.parse({}) };
  await save(s, tenantId, job);
  return job;
}

async function save(s: EraseStores, tenantId: string, job: EraseJob): Promise<void> {
  await s.events.ddb.send(new PutCommand({ TableName: s.events.table, Item: { ...jobKey(tenantId), ...job } }));
}

/** One step of at most about `limit` items; the job as it is afterwards (`phase: "done"` once all is gone). */
export async function eraseStep(s: EraseStores, tenantId: string, limit: number, now: number): Promise<EraseJob> {
  const job = await eraseJob(s, tenantId);
  if (!job) throw new Error(`no erase job for ${tenantId}`);
  const removed = { ...job.removed };
  let phase = job.phase;
  let auditCursor = job.auditCursor;
  let budget = limit;
  while (budget > 0 && phase !== "done") {
    if (phase === "api-keys") {
      const keys = await partition(s.apiKeys.ddb, {
        TableName: s.apiKeys.table,
        IndexName: apiKeyIndexes.byTenant,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": tenantId },
        ProjectionExpression: "keyHash",
        Limit: Math.min(budget, 100),
      });
      await batchWrite(s.apiKeys.ddb, s.apiKeys.table, keys.items.map(deleteOf));
      removed.api_keys += keys.items.length;
      budget -= keys.items.length;
      if (keys.items.length === 0) phase = "events";
    } else if (phase === "events") {
      // What was deleted is gone, so each page is the partition's first: nothing to resume but the phase.
      const page = await partition(s.events.ddb, {
        TableName: s.events.table,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": tenantId },
        ProjectionExpression: "tenantId, sk",
        Limit: Math.min(budget, 100),
      });
      await batchWrite(s.events.ddb, s.events.table, page.items.map(deleteOf));
      for (const { sk } of page.items as { sk: string }[]) {
        if (sk.startsWith("evt_") && sk.includes("#")) removed.attempt_records++;
        else if (sk.startsWith("evt_")) removed.events++;
        else if (sk.startsWith("#audit#")) removed.audit_entries++;
        else removed.other_items++;
      }
      budget -= page.items.length;
      if (page.items.length === 0) phase = "audit";
    } else if (phase === "audit") {
      const page = await partition(s.events.ddb, {
        TableName: s.events.table,
        KeyConditionExpression: "tenantId = :p",
        FilterExpression: "subjectTenantId = :t AND #a <> :erase",
        ExpressionAttributeNames: { "#a": "action" },
        ExpressionAttributeValues: { ":p": operatorPartition, ":t": tenantId, ":erase": eraseAction },
        ProjectionExpression: "tenantId, sk",
        Limit: Math.min(budget, 100),
        ...(auditCursor ? { ExclusiveStartKey: { tenantId: operatorPartition, sk: auditCursor } } : {}),
      });
      await batchWrite(s.events.ddb, s.events.table, page.items.map(deleteOf));
      removed.audit_entries += page.items.length;
      budget -= Math.max(page.scanned, 1);
      auditCursor = page.next?.sk as string | undefined;
      if (!page.next) phase = "dead-letters";
    } else if (phase === "dead-letters") {
      removed.dead_letters += await removeDeadLetters(s.queue, tenantId, budget);
      budget = 0;
      phase = "tenant";
    } else {
      // Anything written since the events phase (an attempt that was in flight) sends it round once more.
      const late = await partition(s.events.ddb, {
        TableName: s.events.table,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": tenantId },
        ProjectionExpression: "sk",
        Limit: 1,
      });
      if (late.items.length > 0) {
        phase = "events";
        continue;
      }
      await s.tenants.ddb.send(new DeleteCommand({ TableName: s.tenants.table, Key: { tenantId } }));
      await s.events.ddb.send(new DeleteCommand({ TableName: s.events.table, Key: jobKey(tenantId) }));
      return { phase: "done", startedAt: job.startedAt, removed, finishedAt: now };
    }
  }
  const next: EraseJob = { phase, startedAt: job.startedAt, removed, ...(auditCursor ? { auditCursor } : {}) };
  await save(s, tenantId, next);
  return next;
}

const deleteOf = (Key: Record<string, unknown>) => ({ DeleteRequest: { Key } });

async function partition(
  ddb: EventStore["ddb"],
  input: ConstructorParameters<typeof QueryCommand>[0],
): Promise<{ items: Record<string, unknown>[]; scanned: number; next: Record<string, unknown> | undefined }> {
  const out = await ddb.send(new QueryCommand(input));
  return { items: out.Items ?? [], scanned: out.ScannedCount ?? 0, next: out.LastEvaluatedKey };
}

/**
 * One pass over the DLQ (at most `max` messages): the tenant's are deleted, the others released at once. A message
 * held by someone else meanwhile (a peek, a requeue) is not seen; it names ids only and expires with the DLQ's
 * retention.
 */
async function removeDeadLetters(queue: DeliveryQueue, tenantId: string, max: number): Promise<number> {
  const seen = new Set<string>();
  const others: string[] = [];
  let removed = 0;
  try {
    while (seen.size < max) {
      const batch = (await receiveDeadLetters(queue, 30)).filter((m) => !seen.has(m.messageId));
      if (batch.length === 0) break;
      for (const m of batch) {
        seen.add(m.messageId);
        if (parseDeliveryMessage(m.body)?.tenantId === tenantId) {
          await deleteDeadLetter(queue, m.receiptHandle);
          removed++;
        } else others.push(m.receiptHandle);
      }
    }
  } finally {
    await releaseDeadLetters(queue, others);
  }
  return removed;
}
