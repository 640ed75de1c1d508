/** The api-key store: keyed by the SHA-256 of the key, so the key itself is never stored. */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { apiKeyParts, newApiKey } from "../core/ids.ts";
import { isConditionFailure } from "./errors.ts";
import { apiKeyIndexes } from "./tables.ts";

export interface ApiKeyStore {
  readonly ddb: DynamoDBDocumentClient;
  readonly table: string;
}

export const apiKeyRecordSchema = z.object({
  keyHash: z.string(),
  keyId: z.string(),
  tenantId: z.string(),
  displayPrefix: z.string(),
  createdAt: z.number(),
  revokedAt: z.number().optional(),
  /** `YYYY-MM-DD` of the last authenticated request: coarse on purpose, written at most once a day. */
  lastUsedDay: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

/**
 * A new key for the tenant (or the given one: a demo stack's fixed key), stored as its hash. Answers the record
 * and the key itself, which the caller shows once.
 */
export async function issueApiKey(
  store: ApiKeyStore,
  tenantId: string,
  now: number,
  apiKey?: string,
): Promise<{ record: ApiKeyRecord; apiKey: string }> {
  const key = apiKey === undefined ? newApiKey() : apiKeyParts(apiKey);
  const record = { keyHash: key.keyHash, keyId: key.keyId, tenantId, displayPrefix: key.displayPrefix, createdAt: now };
  await store.ddb.send(
    new PutCommand({ TableName: store.table, Item: record, ConditionExpression: "attribute_not_exists(keyHash)" }),
  );
  return { record, apiKey: key.apiKey };
}

export async function findApiKey(store: ApiKeyStore, keyHash: string): Promise<ApiKeyRecord | undefined> {
  const { Item } = await store.ddb.send(new GetCommand({ TableName: store.table, Key: { keyHash } }));
  return Item ? apiKeyRecordSchema.parse(Item) : undefined;
}

export async function listApiKeys(store: ApiKeyStore, tenantId: string): Promise<ApiKeyRecord[]> {
  const out: ApiKeyRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.ddb.send(
      new QueryCommand({
        TableName: store.table,
        IndexName: apiKeyIndexes.byTenant,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": tenantId },
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []).map((i) => apiKeyRecordSchema.parse(i)));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Marks the key revoked (idempotent); undefined when the tenant has no such key. */
export async function revokeApiKey(
  store: ApiKeyStore,
  tenantId: string,
  keyId: string,
  now: number,
): Promise<ApiKeyRecord | undefined> {
  const key = (await listApiKeys(store, tenantId)).find((k) => k.keyId === keyId);
  if (!key) return undefined;
  if (key.revokedAt !== undefined) return key;
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { keyHash: key.keyHash },
      UpdateExpression: "SET revokedAt = if_not_exists(revokedAt, :now)",
      ExpressionAttributeValues: { ":now": now },
    }),
  );
  return { ...key, revokedAt: now };
}

/** Records the day a key was last used; a no-op write when already recorded today. */
export async function touchApiKey(store: ApiKeyStore, keyHash: string, day: string): Promise<void> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { keyHash },
        UpdateExpression: "SET lastUsedDay = :d",
        ConditionExpression: "attribute_exists(keyHash) AND (attribute_not_exists(lastUsedDay) OR lastUsedDay <> :d)",
        ExpressionAttributeValues: { ":d": day },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}
