/**
 * The tenant store: a tenant with its endpoints in one item. Every change is one of core/tenant.ts's
 * transitions applied by `changeTenant`, the one version-guarded write path; reads may go through a short cache.
 */
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { lru } from "../lru.ts";
import {
  addEndpoint as withEndpoint,
  endpointAfterAttempt,
  removeEndpoint as withoutEndpoint,
  rotateSecret,
  softDeleteTenant as deleted,
  tenantSchema,
  updateEndpoint as patched,
  updateTenant as renamedOrStatus,
  type Endpoint,
  type EndpointPatch,
  type Tenant,
} from "../core/tenant.ts";
import { isId } from "../core/ids.ts";
import { encodeCursor, rejectedCursor } from "./cursor.ts";
import { isConditionFailure } from "./errors.ts";
import { hasSecretsInClear, sealSecrets, type KeyProvider } from "./secret-keys.ts";
import { z } from "zod";

export interface TenantStore {
  readonly ddb: DynamoDBDocumentClient;
  readonly table: string;
  /** Seals every signing secret before it is written: no secret is stored in clear. */
  readonly keys: KeyProvider;
  /** Told of every tenant this process writes, as stored: its cache keeps it, so the writer never reads it stale. */
  readonly written?: (tenant: Tenant) => void;
}

export interface EndpointKey {
  readonly tenantId: string;
  readonly endpointId: string;
}

/** Creates a tenant whose id is fixed (the system tenant) unless it exists already. */
export async function ensureTenant(store: TenantStore, tenant: Tenant): Promise<void> {
  try {
    await createTenant(store, tenant);
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

export async function createTenant(store: TenantStore, tenant: Tenant): Promise<void> {
  const Item = await sealSecrets(store.keys, tenant);
  // Ids are random; the guard only makes a collision an error rather than an overwrite.
  await store.ddb.send(
    new PutCommand({ TableName: store.table, Item, ConditionExpression: "attribute_not_exists(tenantId)" }),
  );
  store.written?.(Item);
}

export async function getTenant(store: TenantStore, tenantId: string): Promise<Tenant | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { tenantId }, ConsistentRead: true }),
  );
  return Item ? tenantSchema.parse(Item) : undefined;
}

/**
 * Read-modify-write of one tenant under its version, retried on a concurrent change: two operators
 * editing endpoints of one tenant never lose each other's change. `change` answers the new tenant,
 * or undefined to leave it as it is; the result is the tenant as stored afterwards.
 */
export async function changeTenant(
  store: TenantStore,
  tenantId: string,
  change: (t: Tenant) => Tenant | undefined,
): Promise<Tenant | undefined> {
  for (let race = 0; race < 10; race++) {
    const current = await getTenant(store, tenantId);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    // Secrets in clear (a new or rotated one, or one stored before sealing) are sealed by whichever write comes next.
    const stored = await sealSecrets(store.keys, { ...next, version: current.version + 1 });
    try {
      // Invariant: two writers of one tenant (an operator, a worker's circuit) never lose each other's change.
      await store.ddb.send(
        new PutCommand({
          TableName: store.table,
          Item: stored,
          ConditionExpression: "attribute_not_exists(version) OR version = :v",
          ExpressionAttributeValues: { ":v": current.version },
        }),
      );
      store.written?.(stored);
      return stored;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
  throw new Error(`tenant ${tenantId} is too contended to update`);
}

export const tenantCursorSchema = z.object({ tenantId: z.string().refine((s) => isId("ten", s)) });

/**
 * A page of tenants. A Scan, deliberately: the table holds one small item per tenant and only this admin
 * listing reads it whole, so an index would cost more than it saves.
 */
export async function listTenants(
  store: TenantStore,
  limit: number,
  after?: z.infer<typeof tenantCursorSchema>,
): Promise<{ items: Tenant[]; nextCursor: string | null }> {
  const page = await store.ddb
    .send(new ScanCommand({ TableName: store.table, Limit: limit, ...(after ? { ExclusiveStartKey: after } : {}) }))
    .catch(rejectedCursor(after));
  return {
    items: (page.Items ?? []).map((i) => tenantSchema.parse(i)),
    nextCursor: page.LastEvaluatedKey ? encodeCursor(tenantCursorSchema.parse(page.LastEvaluatedKey)) : null,
  };
}

/**
 * The sealing job, one bounded step: a page of at most `limit` tenants (one Scan), each with a secret still in clear
 * (stored before sealing: a tenant nobody writes keeps it so) written again through changeTenant, which seals it under
 * the tenant's version (so it never loses a concurrent change). Answers the next page's cursor, null after the last:
 * the job resumes from there, and running it again on sealed tenants writes nothing.
 */
export async function sealTenantsInClear(
  store: TenantStore,
  limit: number,
  after?: z.infer<typeof tenantCursorSchema>,
): Promise<{ examined: number; sealed: number; nextCursor: z.infer<typeof tenantCursorSchema> | null }> {
  const page = await store.ddb
    .send(new ScanCommand({ TableName: store.table, Limit: limit, ...(after ? { ExclusiveStartKey: after } : {}) }))
    .catch(rejectedCursor(after));
  const inClear = (page.Items ?? []).map((i) => tenantSchema.parse(i)).filter(hasSecretsInClear);
  for (const t of inClear) await changeTenant(store, t.tenantId, (now) => (hasSecretsInClear(now) ? now : undefined));
  return {
    examined: page.Items?.length ?? 0,
    sealed: inClear.length,
    nextCursor: page.LastEvaluatedKey ? tenantCursorSchema.parse(page.LastEvaluatedKey) : null,
  };
}

/** The sealing job run to its end (the bootstrap, `npm start`): every page in turn, a hundred tenants a page. */
export async function sealAllTenantsInClear(store: TenantStore): Promise<{ examined: number; sealed: number }> {
  let examined = 0;
  let sealed = 0;
  let after: z.infer<typeof tenantCursorSchema> | undefined;
  do {
    const step = await sealTenantsInClear(store, 100, after);
    examined += step.examined;
    sealed += step.sealed;
    after = step.nextCursor ?? undefined;
  } while (after);
  return { examined, sealed };
}

/**
 * Memoises an async lookup for `ttlMs`, misses included (so repeating an unknown key cannot hammer the table).
 * Misses are kept apart from hits, each in its own LRU of `max`: a flood of unknown keys fills only its own, and
 * never pushes a real key out of the cache. Concurrent callers for one key share a single fetch.
 */
export function cachedLookup<V extends object>(
  fetch: (key: string) => Promise<V | undefined>,
  ttlMs: number,
  max = 10_000,
) {
  if (ttlMs === 0) return fetch;
  const hits = lru<string, V>(max, { ttl: ttlMs });
  const misses = lru<string, true>(max, { ttl: ttlMs });
  const pending = new Map<string, Promise<V | undefined>>();
  return (key: string): Promise<V | undefined> => {
    const hit = hits.get(key);
    if (hit) return Promise.resolve(hit);
    if (misses.has(key)) return Promise.resolve(undefined);
    let fetching = pending.get(key);
    if (!fetching) {
      fetching = fetch(key)
        .then((value) => {
          if (value) hits.set(key, value);
          else misses.set(key, true);
          return value;
        })
        .finally(() => pending.delete(key));
      pending.set(key, fetching);
    }
    return fetching;
  };
}

const missing = Symbol("missing");

/** One endpoint's read-modify-write under its tenant's version; `change` answers undefined to leave it be. */
export async function changeEndpoint(
  store: TenantStore,
  ids: EndpointKey,
  change: (e: Endpoint) => Endpoint | undefined,
): Promise<Tenant | undefined> {
  return changeTenant(store, ids.tenantId, (t) => {
    const current = t.endpoints[ids.endpointId];
    const next = current && change(current);
    return next ? { ...t, endpoints: { ...t.endpoints, [ids.endpointId]: next } } : undefined;
  });
}

/** Applies one attempt's outcome to its endpoint's health (failure run, disabling); no write if nothing changes. */
export async function recordEndpointHealth(
  store: TenantStore,
  ids: EndpointKey,
  attempt: Parameters<typeof endpointAfterAttempt>[1],
): Promise<Tenant | undefined> {
  return changeEndpoint(store, ids, (e) => endpointAfterAttempt(e, attempt));
}

/** Adds an endpoint (a conflict past the tenant's maximum); undefined when the tenant does not exist. */
export async function addEndpoint(
  store: TenantStore,
  tenantId: string,
  endpointId: string,
  endpoint: Endpoint,
): Promise<Tenant | undefined> {
  return changeTenant(store, tenantId, (t) => withEndpoint(t, endpointId, endpoint));
}

/**
 * The endpoint as it was when the change was written and as changed, or undefined when it (or its tenant) does not
 * exist: `was` is what this write replaced, so a caller can tell a transition it made (re-enabled) from one another
 * writer made first.
 */
export async function updateEndpoint(
  store: TenantStore,
  ids: EndpointKey,
  patch: EndpointPatch,
  now: number,
): Promise<{ was: Endpoint; is: Endpoint } | undefined> {
  // The change may run more than once (a race retries it): its last run saw what the stored change replaced.
  const seen: { was?: Endpoint } = {};
  const stored = await changeEndpoint(store, ids, (e) => {
    seen.was = e;
    return patched(e, patch, now);
  });
  const is = stored?.endpoints[ids.endpointId];
  return is && seen.was ? { was: seen.was, is } : undefined;
}

/** A new primary secret; the older live ones keep signing for `graceMs`. Undefined when there is no such endpoint. */
export async function rotateEndpointSecret(
  store: TenantStore,
  ids: EndpointKey,
  secret: string,
  now: number,
  graceMs: number,
): Promise<Endpoint | undefined> {
  return (await changeEndpoint(store, ids, (e) => rotateSecret(e, secret, now, graceMs)))?.endpoints[ids.endpointId];
}

/** False when there was no such endpoint. */
export async function removeEndpoint(store: TenantStore, ids: EndpointKey): Promise<boolean> {
  const seen = { found: false };
  await changeTenant(store, ids.tenantId, (t) => {
    seen.found = ids.endpointId in t.endpoints;
    return seen.found ? withoutEndpoint(t, ids.endpointId) : undefined;
  });
  return seen.found;
}

/** Renames, disables or re-enables a tenant; undefined when it does not exist or is deleted. */
export async function updateTenant(
  store: TenantStore,
  tenantId: string,
  patch: Parameters<typeof renamedOrStatus>[1],
): Promise<Tenant | undefined> {
  const stored = await changeTenant(store, tenantId, (t) => renamedOrStatus(t, patch));
  return stored?.status === "deleted" ? undefined : stored;
}

export async function softDeleteTenant(store: TenantStore, tenantId: string): Promise<void> {
  await changeTenant(store, tenantId, deleted);
}

export interface TenantCache {
  /** The tenant, from the cache unless it is older than `minVersion` (a change the caller knows was made). */
  get(tenantId: string, minVersion?: number): Promise<Tenant | undefined>;
  /** A tenant this process just wrote: cached at once, unless the cache holds a newer one. */
  remember(tenant: Tenant): void;
}

/**
 * Tenants cached for `ttlMs` (the API's ingestion and auth, the worker's deliveries). What this process writes is
 * cached at once (`remember`, through the store's `written`); a caller that knows of a newer version (a message that
 * carries it) reads it afresh; anything else may be seen up to `ttlMs` late.
 */
export function tenantCache(
  fetch: (tenantId: string) => Promise<Tenant | undefined>,
  ttlMs: number,
  max = 10_000,
): TenantCache {
  if (ttlMs === 0) return { get: fetch, remember: () => undefined };
  const cache = lru<string, Tenant | typeof missing>(max, {
    ttl: ttlMs,
    fetchMethod: async (id) => (await fetch(id)) ?? missing,
  });
  return {
    async get(tenantId, minVersion) {
      let tenant = await cache.fetch(tenantId);
      const stale =
        minVersion !== undefined && (tenant === undefined || tenant === missing || tenant.version < minVersion);
      if (stale) tenant = await cache.fetch(tenantId, { forceRefresh: true });
      return tenant === missing ? undefined : tenant;
    },
    remember(tenant) {
      const cached = cache.peek(tenant.tenantId);
      if (cached === undefined || cached === missing || cached.version < tenant.version)
        cache.set(tenant.tenantId, tenant);
    },
  };
}
