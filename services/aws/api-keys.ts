/** The api-keys table: keyed by the SHA-256 of the key, so the key itself is never stored. */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";

export const apiKeySchema = z.object({
  keyHash: z.string(),
  keyId: z.string(),
  tenantId: z.string(),
  displayPrefix: z.string(),
  createdAt: z.number(),
  revokedAt: z.number().optional(),
});
export type ApiKeyRecord = z.infer<typeof apiKeySchema>;

export async function putApiKey(ddb: DynamoDBDocumentClient, table: string, key: ApiKeyRecord): Promise<void> {
  await ddb.send(new PutCommand({ TableName: table, Item: key, ConditionExpression: "attribute_not_exists(keyHash)" }));
}

export async function findApiKey(ddb: DynamoDBDocumentClient, table: string, keyHash: string): Promise<ApiKeyRecord | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: table, Key: { keyHash } }));
  return Item ? apiKeySchema.parse(Item) : undefined;
}
