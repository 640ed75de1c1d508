/**
 * The event catalog's store: items in the events table under the tenant's partition, out of every index (none has
 * `createdAt`, `tenantStatus` or `dueShard`). `#catalog` is the head (a revision every change moves on, and the
 * tenant's `catalog_required`), read consistently for every event so that a change reaches every API task at once;
 * `#etype#<name>` is a type as it is now; `#eschema#<name>#<version>` each schema it has had, written once.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import {
  catalogHeadSchema,
  eventTypeRecordSchema,
  eventTypeVersionSchema,
  putEventType as put,
  type CatalogHead,
  type EventTypeInput,
  type EventTypeRecord,
  type EventTypeVersion,
} from "../core/event-catalog.ts";
import { encodeCursor, rejectedCursor } from "./cursor.ts";
import { isConditionFailure } from "./errors.ts";
import type { EventStore } from "./events/store.ts";

const headSk = "#catalog";
const typeSk = (name: string) => `#etype#${name}`;
const versionPrefix = (name: string) => `#eschema#${name}#`;
const versionSk = (name: string, version: number) => `${versionPrefix(name)}${String(version).padStart(6, "0")}`;

/** A page's last item, within the tenant's partition (the tenant is never the cursor's to say). */
export const catalogCursorSchema = z.object({
  sk: z
    .string()
    .max(300)
    .regex(/^#e(type|schema)#/),
});
export type CatalogCursor = z.infer<typeof catalogCursorSchema>;

/** The head, as of now (a consistent read: the change a PUT answered is seen by the next event on any task). */
export async function readCatalogHead(store: EventStore, tenantId: string): Promise<CatalogHead> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { tenantId, sk: headSk }, ConsistentRead: true }),
  );
  return catalogHeadSchema.parse(Item ?? {});
}

/** Moves the head on (every change does, even one that changed nothing: it repairs a change cut short). */
async function moveHead(store: EventStore, tenantId: string, set?: { catalogRequired: boolean }): Promise<CatalogHead> {
  const { Attributes } = await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { tenantId, sk: headSk },
      UpdateExpression: set ? "ADD revision :one SET catalogRequired = :req" : "ADD revision :one",
      ExpressionAttributeValues: { ":one": 1, ...(set ? { ":req": set.catalogRequired } : {}) },
      ReturnValues: "ALL_NEW",
    }),
  );
  return catalogHeadSchema.parse(Attributes ?? {});
}

export function setCatalogRequired(
  store: EventStore,
  tenantId: string,
  catalogRequired: boolean,
): Promise<CatalogHead> {
  return moveHead(store, tenantId, { catalogRequired });
}

/** The type as stored, a deleted one included (undefined: never defined). */
export async function getEventTypeRecord(
  store: EventStore,
  tenantId: string,
  name: string,
): Promise<EventTypeRecord | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { tenantId, sk: typeSk(name) }, ConsistentRead: true }),
  );
  return Item ? eventTypeRecordSchema.parse(Item) : undefined;
}

export async function getEventType(store: EventStore, tenantId: string, name: string) {
  const record = await getEventTypeRecord(store, tenantId, name);
  return record && !record.deleted ? record : undefined;
}

/** One version's schema (written once, never changed: safe to cache for good). */
export async function getEventTypeVersion(
  store: EventStore,
  tenantId: string,
  name: string,
  version: number,
): Promise<EventTypeVersion | undefined> {
  const { Item } = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { tenantId, sk: versionSk(name, version) } }),
  );
  return Item ? eventTypeVersionSchema.parse(Item) : undefined;
}

async function page<T>(
  store: EventStore,
  tenantId: string,
  prefix: string,
  parse: (item: Record<string, unknown>) => T | undefined,
  opts: { limit: number; after?: CatalogCursor | undefined; newestFirst?: boolean },
): Promise<{ items: T[]; nextCursor: string | null }> {
  const out = await store.ddb
    .send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: "tenantId = :t AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":t": tenantId, ":p": prefix },
        Limit: opts.limit,
        ScanIndexForward: !opts.newestFirst,
        ConsistentRead: true,
        ...(opts.after ? { ExclusiveStartKey: { tenantId, sk: opts.after.sk } } : {}),
      }),
    )
    .catch(rejectedCursor(opts.after));
  const last = out.LastEvaluatedKey ? { sk: String(out.LastEvaluatedKey.sk) } : undefined;
  return {
    items: (out.Items ?? []).flatMap((i) => parse(i) ?? []),
    nextCursor: last ? encodeCursor(last) : null,
  };
}

/** The tenant's event types by name (deleted ones skipped: a page may hold fewer than `limit`). */
export function listEventTypes(store: EventStore, tenantId: string, opts: { limit: number; after?: CatalogCursor }) {
  return page(
    store,
    tenantId,
    "#etype#",
    (i) => {
      const r = eventTypeRecordSchema.parse(i);
      return r.deleted ? undefined : r;
    },
    opts,
  );
}

/** A type's schema versions, newest first. */
export function listEventTypeVersions(
  store: EventStore,
  tenantId: string,
  name: string,
  opts: { limit: number; after?: CatalogCursor },
) {
  return page(store, tenantId, versionPrefix(name), (i) => eventTypeVersionSchema.parse(i), {
    ...opts,
    newestFirst: true,
  });
}

/**
 * Defines or replaces a type (the caller has admitted its schema). Its own record is written under its `rev`, so two
 * writers of one type never lose a version; a new schema's version item is written once. Then the head moves on.
 */
export async function putEventType(
  store: EventStore,
  tenantId: string,
  name: string,
  input: EventTypeInput,
  now: number,
): Promise<{ record: EventTypeRecord; created: boolean }> {
  for (let race = 0; race < 10; race++) {
    const current = await getEventTypeRecord(store, tenantId, name);
    const next = put(current, name, input, now);
    if (next.newVersion) {
      try {
        // Invariant: a version, once written, is never changed.
        await store.ddb.send(
          new PutCommand({
            TableName: store.table,
            Item: { tenantId, sk: versionSk(name, next.newVersion.version), ...next.newVersion },
            ConditionExpression: "attribute_not_exists(sk)",
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        // Another writer took this version number (its record write follows): read again and number on.
        const taken = await getEventTypeVersion(store, tenantId, name, next.newVersion.version);
        if (taken?.schemaJson !== next.newVersion.schemaJson) continue;
      }
    }
    try {
      // Invariant: two writers of one type never lose each other's change.
      await store.ddb.send(
        new PutCommand({
          TableName: store.table,
          Item: { tenantId, sk: typeSk(name), ...next.record },
          ConditionExpression: "attribute_not_exists(sk) OR rev = :rev",
          ExpressionAttributeValues: { ":rev": current?.rev ?? 0 },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      continue;
    }
    await moveHead(store, tenantId);
    return { record: next.record, created: next.created };
  }
  throw new Error(`event type ${name} is too contended to change`);
}

/** False when there was no such type. Its versions stay (and a type defined again with its name numbers on). */
export async function deleteEventType(
  store: EventStore,
  tenantId: string,
  name: string,
  now: number,
): Promise<boolean> {
  for (let race = 0; race < 10; race++) {
    const current = await getEventTypeRecord(store, tenantId, name);
    if (!current || current.deleted) return false;
    try {
      await store.ddb.send(
        new PutCommand({
          TableName: store.table,
          Item: { tenantId, sk: typeSk(name), ...current, deleted: true, changedAt: now, rev: current.rev + 1 },
          ConditionExpression: "rev = :rev",
          ExpressionAttributeValues: { ":rev": current.rev },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      continue;
    }
    await moveHead(store, tenantId);
    return true;
  }
  throw new Error(`event type ${name} is too contended to change`);
}
