/**
 * A named lease across API tasks (one DLQ requeue at a time), kept in the events table under a system
 * partition that no tenant query and no index ever sees.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { isConditionFailure } from "./errors.ts";

const systemPartition = "#system";

export interface LockStore {
  readonly ddb: DynamoDBDocumentClient;
  readonly table: string;
}

/** Takes or renews the lock for `ttlMs`; false while another owner's lease is live. */
export async function holdLock(
  store: LockStore,
  name: string,
  owner: string,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.table,
        Item: { tenantId: systemPartition, sk: `lock#${name}`, owner, expiresAt: now + ttlMs },
        ConditionExpression: "attribute_not_exists(sk) OR expiresAt < :now OR #o = :owner",
        ExpressionAttributeNames: { "#o": "owner" },
        ExpressionAttributeValues: { ":now": now, ":owner": owner },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function releaseLock(store: LockStore, name: string, owner: string): Promise<void> {
  try {
    await store.ddb.send(
      new DeleteCommand({
        TableName: store.table,
        Key: { tenantId: systemPartition, sk: `lock#${name}` },
        ConditionExpression: "#o = :owner",
        ExpressionAttributeNames: { "#o": "owner" },
        ExpressionAttributeValues: { ":owner": owner },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}
