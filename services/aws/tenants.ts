/** The tenants table: a tenant with its endpoints in one item, read through a short cache. */
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { endpointAfterAttempt, tenantSchema, type Endpoint, type Tenant } from "../core/tenant.ts";
import { isConditionFailure } from "./errors.ts";

export async function createTenant(ddb: DynamoDBDocumentClient, table: string, tenant: Tenant): Promise<void> {
  // Ids are random; the guard only makes a collision an error rather than an overwrite.
  await ddb.send(new PutCommand({ TableName: table, Item: tenant, ConditionExpression: "attribute_not_exists(tenantId)" }));
}

export async function getTenant(ddb: DynamoDBDocumentClient, table: string, tenantId: string): Promise<Tenant | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: table, Key: { tenantId }, ConsistentRead: true }));
  return Item ? tenantSchema.parse(Item) : undefined;
}

/**
 * Read-modify-write of one tenant under its version, retried on a concurrent change: two operators
 * editing endpoints of one tenant never lose each other's change. `change` answers the new tenant,
 * or undefined to leave it as it is; the result is the tenant as stored afterwards.
 */
export async function changeTenant(
  ddb: DynamoDBDocumentClient,
  table: string,
  tenantId: string,
  change: (t: Tenant) => Tenant | undefined,
): Promise<Tenant | undefined> {
  for (let race = 0; race < 10; race++) {
    const current = await getTenant(ddb, table, tenantId);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    const stored = { ...next, version: current.version + 1 };
    try {
      await ddb.send(
        new PutCommand({
          TableName: table,
          Item: stored,
          ConditionExpression: "attribute_not_exists(version) OR version = :v",
          ExpressionAttributeValues: { ":v": current.version },
        }),
      );
      return stored;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
  throw new Error(`tenant ${tenantId} is too contended to update`);
}

const tenantCursor = z.object({ tenantId: z.string() });

/**
 * A page of tenants. A Scan, deliberately: the table holds one small item per tenant and only this admin
 * listing reads it whole, so an index would cost more than it saves.
 */
export async function listTenants(
  ddb: DynamoDBDocumentClient,
  table: string,
  limit: number,
  cursor?: string,
): Promise<{ items: Tenant[]; nextCursor: string | null }> {
  const start = cursor ? tenantCursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))) : undefined;
  const page = await ddb.send(new ScanCommand({ TableName: table, Limit: limit, ...(start ? { ExclusiveStartKey: start } : {}) }));
  const last = page.LastEvaluatedKey ? tenantCursor.parse(page.LastEvaluatedKey) : undefined;
  return {
    items: (page.Items ?? []).map((i) => tenantSchema.parse(i)),
    nextCursor: last ? Buffer.from(JSON.stringify(last)).toString("base64url") : null,
  };
}

/**
 * Memoises an async lookup for `ttlMs`, misses included (so unknown keys cannot hammer the table).
 * Concurrent callers for one key share a single fetch.
 */
const missing = Symbol("missing");

export function cachedLookup<V extends object>(fetch: (key: string) => Promise<V | undefined>, ttlMs: number, max = 10_000) {
  if (ttlMs === 0) return fetch;
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

export interface EndpointKey {
  readonly tenantId: string;
  readonly endpointId: string;
}

/** One endpoint's read-modify-write under its tenant's version; `change` answers undefined to leave it be. */
export async function changeEndpoint(
  ddb: DynamoDBDocumentClient,
  table: string,
  ids: EndpointKey,
  change: (e: Endpoint) => Endpoint | undefined,
): Promise<Tenant | undefined> {
  return changeTenant(ddb, table, ids.tenantId, (t) => {
    const current = t.endpoints[ids.endpointId];
    const next = current && change(current);
    return next ? { ...t, endpoints: { ...t.endpoints, [ids.endpointId]: next } } : undefined;
  });
}

/** Applies one attempt's outcome to its endpoint's health (failure run, disabling); no write if nothing changes. */
export async function recordEndpointHealth(
  ddb: DynamoDBDocumentClient,
  table: string,
  ids: EndpointKey,
  attempt: Parameters<typeof endpointAfterAttempt>[1],
): Promise<Tenant | undefined> {
  return changeEndpoint(ddb, table, ids, (e) => endpointAfterAttempt(e, attempt));
}

export interface TenantCache {
  /** The tenant, from the cache unless it is older than `minVersion` (a change the caller knows was made). */
  get(tenantId: string, minVersion?: number): Promise<Tenant | undefined>;
  /** A tenant this process just wrote: cached at once, unless the cache holds a newer one. */
  remember(tenant: Tenant): void;
}

/**
 * The worker's tenants, cached for `ttlMs`: a delivery started after a change the API answered (a message that
 * carries the tenant's version) reads it afresh; every other delivery may see it up to `ttlMs` late.
 */
export function tenantCache(fetch: (tenantId: string) => Promise<Tenant | undefined>, ttlMs: number, max = 10_000): TenantCache {
  if (ttlMs === 0) return { get: fetch, remember: () => undefined };
  const cache = new LRUCache<string, Tenant | typeof missing>({ max, ttl: ttlMs, fetchMethod: async (id) => (await fetch(id)) ?? missing });
  return {
    async get(tenantId, minVersion) {
      let tenant = await cache.fetch(tenantId);
      const stale = minVersion !== undefined && (tenant === undefined || tenant === missing || tenant.version < minVersion);
      if (stale) tenant = await cache.fetch(tenantId, { forceRefresh: true });
      return tenant === missing ? undefined : tenant;
    },
    remember(tenant) {
      const cached = cache.peek(tenant.tenantId);
      if (cached === undefined || cached === missing || cached.version < tenant.version) cache.set(tenant.tenantId, tenant);
    },
  };
}
