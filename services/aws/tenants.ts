/** The tenants table: a tenant with its endpoints in one item, read through a short cache. */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { LRUCache } from "lru-cache";
import { tenantSchema, type Tenant } from "../core/tenant.ts";

export async function createTenant(ddb: DynamoDBDocumentClient, table: string, tenant: Tenant): Promise<void> {
  // Ids are random; the guard only makes a collision an error rather than an overwrite.
  await ddb.send(new PutCommand({ TableName: table, Item: tenant, ConditionExpression: "attribute_not_exists(tenantId)" }));
}

export async function getTenant(ddb: DynamoDBDocumentClient, table: string, tenantId: string): Promise<Tenant | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: table, Key: { tenantId } }));
  return Item ? tenantSchema.parse(Item) : undefined;
}

/**
 * Memoises an async lookup for `ttlMs`, misses included (so unknown keys cannot hammer the table).
 * Concurrent callers for one key share a single fetch.
 */
export function cachedLookup<V extends object>(fetch: (key: string) => Promise<V | undefined>, ttlMs: number, max = 10_000) {
  if (ttlMs === 0) return fetch;
  const missing = Symbol("missing");
  const cache = new LRUCache<string, V | typeof missing>({
    max,
    ttl: ttlMs,
    fetchMethod: async (key) => (await fetch(key)) ?? missing,
  });
  return async (key: string): Promise<V | undefined> => {
    const value = await cache.fetch(key);
    return value === missing ? undefined : value;
  };
}
