/**
 * The audit log in the events table: each entry twice, once in its tenant's partition (`sk` = `#audit#<aud id>`: the
 * tenant's own log, erased and expired with the tenant's data) and once in the `#audit` partition (the operators' log
 * of every tenant, `sk` = the aud id; a tenant's erasure is in this one only). Ids are ULIDs, so both sort by time. No index sees them (no indexed attribute).
 */
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { auditEntrySchema, eraseAction, type AuditEntry } from "../core/audit.ts";
import { encodeCursor, rejectedCursor } from "./cursor.ts";
import { tenantKeepMs, type EventStore } from "./events/store.ts";

export const operatorPartition = "#audit";
const tenantPrefix = "#audit#";
/** The platform's own entries (no tenant) are kept a year. */
const platformKeepMs = 365 * 86_400_000;

export const auditCursorSchema = z.object({ sk: z.string().max(100) });

/** Appends an entry to the tenant's log (when it names one) and to the operators' log; kept as the tenant's data is. */
export async function recordAudit(store: EventStore, entry: AuditEntry): Promise<void> {
  const keep = entry.subjectTenantId ? await tenantKeepMs(store, entry.subjectTenantId) : platformKeepMs;
  const ttl = Math.floor((entry.at + keep) / 1000);
  const put = (tenantId: string, sk: string) =>
    store.ddb.send(new PutCommand({ TableName: store.table, Item: { ...entry, tenantId, sk, ttl } }));
  await Promise.all([
    put(operatorPartition, entry.auditId),
    ...(entry.subjectTenantId && entry.action !== eraseAction
      ? [put(entry.subjectTenantId, `${tenantPrefix}${entry.auditId}`)]
      : []),
  ]);
}

/** A page of a log, newest first: the tenant's (`tenantId`) or the operators' (every tenant's and the platform's). */
export async function auditPage(
  store: EventStore,
  tenantId: string | undefined,
  limit: number,
  after?: z.infer<typeof auditCursorSchema>,
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const page = await store.ddb
    .send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: tenantId ? "tenantId = :p AND begins_with(sk, :prefix)" : "tenantId = :p",
        ExpressionAttributeValues: tenantId ? { ":p": tenantId, ":prefix": tenantPrefix } : { ":p": operatorPartition },
        ScanIndexForward: false,
        Limit: limit,
        ...(after ? { ExclusiveStartKey: { tenantId: tenantId ?? operatorPartition, sk: after.sk } } : {}),
      }),
    )
    .catch(rejectedCursor(after));
  return {
    items: (page.Items ?? []).map((i) => auditEntrySchema.parse(i)),
    nextCursor: page.LastEvaluatedKey ? encodeCursor({ sk: page.LastEvaluatedKey.sk as string }) : null,
  };
}
