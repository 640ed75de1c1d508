/** The api-keys table: keyed by the SHA-256 of the key, so the key itself is never stored. */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { apiKeyIndexes } from "./tables.ts";

export const apiKeySchema = z.object({
  keyHash: z.string(),
  keyId: z.string(),
  tenantId: z.string(),
  displayPrefix: z.string(),
  createdAt: z.number(),
  revokedAt: z.number().optional(),
  /** `YYYY-MM-DD` of the last authenticated request: coarse on purpose, written at most once a day. */
  lastUsedDay: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof apiKeySchema>;

export async function putApiKey(ddb: DynamoDBDocumentClient, table: string, key: ApiKeyRecord): Promise<void> {
  await ddb.send(new PutCommand({ TableName: table, Item: key, ConditionExpression: "attribute_not_exists(keyHash)" }));
}

export async function findApiKey(ddb: DynamoDBDocumentClient, table: string, keyHash: string): Promise<ApiKeyRecord | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: table, Key: { keyHash } }));
  return Item ? apiKeySchema.parse(Item) : undefined;
}

export async function listApiKeys(ddb: DynamoDBDocumentClient, table: string, tenantId: string): Promise<ApiKeyRecord[]> {
  const out: ApiKeyRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        IndexName: apiKeyIndexes.byTenant,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": tenantId },
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []).map((i) => apiKeySchema.parse(i)));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Marks the key revoked (idempotent); undefined when the tenant has no such key. */
export async function revokeApiKey(
  ddb: DynamoDBDocumentClient,
  table: string,
  tenantId: string,
  keyId: string,
  now: number,
): Promise<ApiKeyRecord | undefined> {
  const key = (await listApiKeys(ddb, table, tenantId)).find((k) => k.keyId === keyId);
  if (!key) return undefined;
  if (key.revokedAt !== undefined) return key;
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { keyHash: key.keyHash },
      UpdateExpression: "SET revokedAt = if_not_exists(revokedAt, :now)",
      ExpressionAttributeValues: { ":now": now },
    }),
  );
  return { ...key, revokedAt: now };
}

/** Records the day a key was last used; a no-op write when already recorded today. */
export async function touchApiKey(ddb: DynamoDBDocumentClient, table: string, keyHash: string, day: string): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: { keyHash },
        UpdateExpression: "SET lastUsedDay = :d",
        ConditionExpression: "attribute_exists(keyHash) AND (attribute_not_exists(lastUsedDay) OR lastUsedDay <> :d)",
        ExpressionAttributeValues: { ":d": day },
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === "ConditionalCheckFailedException")) throw err;
  }
}
