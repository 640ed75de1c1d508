/**
 * What DynamoDB's TTL does in AWS, for the emulators that never do it (dynalite, DynamoDB Local, LocalStack): items
 * whose `ttl` (epoch s) has passed are deleted, a bounded page at a time, so the local stack forgets what AWS would.
 */
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { isConditionFailure } from "./errors.ts";

export interface ExpiryPage {
  readonly deleted: number;
  /** Where the next page starts; undefined after the table's last page. */
  readonly next: Record<string, unknown> | undefined;
}

/** One page of a table (at most `limit` items examined): those whose `ttl` is at or before `nowS` deleted. */
export async function expireItems(
  ddb: DynamoDBDocumentClient,
  table: Pick<CreateTableCommandInput, "TableName" | "KeySchema">,
  nowS: number,
  limit: number,
  after?: Record<string, unknown>,
): Promise<ExpiryPage> {
  const keys = (table.KeySchema ?? []).map((k) => k.AttributeName ?? "");
  const page = await ddb.send(
    new ScanCommand({
      TableName: table.TableName,
      Limit: limit,
      FilterExpression: "#ttl <= :now",
      ProjectionExpression: keys.map((_, i) => `#k${i}`).join(", "),
      ExpressionAttributeNames: { "#ttl": "ttl", ...Object.fromEntries(keys.map((k, i) => [`#k${i}`, k])) },
      ExpressionAttributeValues: { ":now": nowS },
      ...(after ? { ExclusiveStartKey: after } : {}),
    }),
  );
  let deleted = 0;
  for (const key of page.Items ?? []) {
    try {
      // An item whose TTL was moved on or removed since the scan (a requeued event is PENDING again) stays.
      await ddb.send(
        new DeleteCommand({
          TableName: table.TableName,
          Key: key,
          ConditionExpression: "#ttl <= :now",
          ExpressionAttributeNames: { "#ttl": "ttl" },
          ExpressionAttributeValues: { ":now": nowS },
        }),
      );
      deleted++;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
  return { deleted, next: page.LastEvaluatedKey };
}

/** A whole pass over each table: what AWS's TTL would have deleted by `nowS`. Answers the items deleted. */
export async function expireAll(
  ddb: DynamoDBDocumentClient,
  tables: readonly Pick<CreateTableCommandInput, "TableName" | "KeySchema">[],
  nowS: number,
  limit = 100,
): Promise<number> {
  let deleted = 0;
  for (const table of tables) {
    let after: Record<string, unknown> | undefined;
    do {
      const page = await expireItems(ddb, table, nowS, limit, after);
      deleted += page.deleted;
      after = page.next;
    } while (after);
  }
  return deleted;
}
