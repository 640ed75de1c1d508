/**
 * Checking an event against its tenant's catalog at ingestion. Every event is checked against a consistent read of
 * the catalog's head (one small item) begun after the event arrived, so a change answered by any API task is used by
 * the next event on every task; concurrent events of a tenant share such a read (`freshReads`: one per round trip,
 * not one per event). A type is read again only when the head has moved since this task last read it, and a schema
 * version is compiled once per task.
 */
import type { Logger } from "pino";
import { lru } from "../lru.ts";
import type { CatalogHead, ValidationMode } from "../core/event-catalog.ts";
import { problems } from "../core/errors.ts";
import { freshReads } from "../core/fresh-reads.ts";
import { getEventType, readCatalogHead } from "../aws/event-catalog.ts";
import type { EventStore } from "../aws/events/store.ts";
import { compilePayloadSchema, type PayloadCheck, type PayloadError } from "./payload-schemas.ts";

export interface SchemaVerdict {
  /** The schema version the payload was checked against. */
  readonly version: number;
  readonly mode: ValidationMode;
  /** Empty when it conforms; at most 10. */
  readonly errors: readonly PayloadError[];
}

interface Known {
  readonly revision: number;
  readonly type?: { readonly version: number; readonly mode: ValidationMode; readonly schemaJson?: string | undefined };
}

export interface CatalogChecker {
  /** The head, read now: start it as soon as the tenant is known, await it with the body. */
  head(tenantId: string): Promise<CatalogHead>;
  /**
   * The verdict on a payload of `type` (undefined: not checked, no schema), or a 422 when the tenant requires the
   * catalog and the type is not in it, or when its schema is enforced and the payload does not conform.
   */
  check(
    tenantId: string,
    head: CatalogHead,
    type: string | undefined,
    payload: unknown,
    log: Logger,
  ): Promise<SchemaVerdict | undefined>;
}

export function catalogChecker(store: EventStore): CatalogChecker {
  const known = lru<string, Known>(10_000);
  const compiled = lru<string, PayloadCheck>(1_000);

  const typeOf = async (tenantId: string, name: string, revision: number): Promise<Known["type"]> => {
    const key = `${tenantId}\n${name}`;
    const hit = known.get(key);
    if (hit?.revision === revision) return hit.type;
    // A catalog never written to holds no type: no read at all.
    const record = revision === 0 ? undefined : await getEventType(store, tenantId, name);
    const type = record && { version: record.version, mode: record.validation, schemaJson: record.schemaJson };
    known.set(key, { revision, type });
    return type;
  };

  return {
    head: freshReads((tenantId) => readCatalogHead(store, tenantId)),
    async check(tenantId, head, name, payload, log) {
      if (name === undefined) {
        if (head.catalogRequired)
          throw problems.invalid([
            { path: "type", message: "this tenant accepts only event types in its catalog; this event has no type" },
          ]);
        return undefined;
      }
      const type = await typeOf(tenantId, name, head.revision);
      if (!type) {
        if (head.catalogRequired)
          throw problems.invalid([
            { path: "type", message: `${name} is not in this tenant's catalog (PUT /v1/event-types/${name} first)` },
          ]);
        return undefined;
      }
      if (type.schemaJson === undefined) return undefined;
      const key = `${tenantId}\n${name}\n${type.version}`;
      let check = compiled.get(key);
      if (!check) {
        try {
          check = compilePayloadSchema(JSON.parse(type.schemaJson));
        } catch (err) {
          // Admitted when stored, so this is ours (a library changed under it): accept unchecked rather than fail.
          log.error({ err, event_type: name, version: type.version }, "stored schema does not compile");
          return undefined;
        }
        compiled.set(key, check);
      }
      return { version: type.version, mode: type.mode, errors: check(payload) };
    },
  };
}

/** The 422 of an enforced schema: each error at its pointer into the payload. */
export function nonConforming(name: string, verdict: SchemaVerdict) {
  return problems.invalid(
    verdict.errors.map((e) => ({ path: "(body)", pointer: e.pointer, message: e.message })),
    `The payload does not conform to version ${verdict.version} of the ${name} schema.`,
  );
}
