/**
 * The event catalog, `/v1/event-types` (the key's tenant): event types with their JSON Schemas (a new version at every
 * change), examples and validation mode; the catalog as an OpenAPI document for the tenant's consumers; and
 * `/v1/catalog`, its one setting. A schema is admitted before it is stored (bounds, linear patterns, a compile).
 */
import express, { Router, type Request, type RequestHandler } from "express";
import { z } from "zod";
import { eventTypeNameSchema, maxExamples, validationModes } from "../../core/event-catalog.ts";
import { problems } from "../../core/errors.ts";
import {
  catalogCursorSchema,
  deleteEventType,
  getEventType,
  listEventTypes,
  listEventTypeVersions,
  putEventType,
  readCatalogHead,
  setCatalogRequired,
  type CatalogCursor,
} from "../../aws/event-catalog.ts";
import type { EventStore } from "../../aws/events/store.ts";
import { admitSchema } from "../../ingestion/payload-schemas.ts";
import { catalogDocument } from "../catalog-document.ts";
import { cursorOf, jsonObjectOf, parseWith, requireJson } from "../validate.ts";
import { eventTypeVersionView, eventTypeView } from "../views.ts";

export interface EventTypeRoutesDeps {
  readonly store: EventStore;
  readonly now: () => number;
  readonly tenantIdOf: (req: Request) => string;
  readonly actionLimit: RequestHandler;
  /** The limits on an event body (MAX_PAYLOAD_BYTES, MAX_JSON_DEPTH): a schema's cost bound is for them. */
  readonly maxPayloadBytes: number;
  readonly maxJsonDepth: number;
}

/** All examples of a type together, as JSON: with a 64 KiB schema they keep the stored type under DynamoDB's 400 KB. */
export const maxExamplesBytes = 262_144;

export const eventTypeInputSchema = z.strictObject({
  description: z.string().max(2000).optional(),
  schema: z
    .union([z.record(z.string(), z.unknown()), z.boolean()])
    .optional()
    .meta({
      description:
        "A JSON Schema (draft 2020-12) for the payload: at most 64 KiB, references within itself only (#/$defs/…), " +
        "patterns that run in linear time; its cost on a payload is bounded. Absent: payloads are not checked.",
    }),
  examples: z
    .array(z.record(z.string(), z.unknown()))
    .max(maxExamples)
    .optional()
    .meta({ description: `Up to ${maxExamples} example payloads; each must conform to the schema.` }),
  deprecated: z.boolean().optional(),
  validation: z.enum(validationModes).optional().meta({
    description:
      "`enforce` (default): a payload that does not conform is refused with a 422; `warn`: accepted and marked.",
  }),
});

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional().meta({ description: "`next_cursor` of the previous page (400 for any other)." }),
});

export const catalogSettingsInputSchema = z.strictObject({
  catalog_required: z.boolean().meta({ description: "Refuse events whose type is not in the catalog (422)." }),
});

const nameOf = (req: Request) => parseWith(z.object({ name: eventTypeNameSchema }), req.params).name;

export function eventTypeRoutes(deps: EventTypeRoutesDeps): Router {
  const router = Router();
  const payloadLimits = { maxBytes: deps.maxPayloadBytes, maxDepth: deps.maxJsonDepth };

  router.get("/openapi.json", async (req, res) => {
    const tenantId = deps.tenantIdOf(req);
    const [head, types] = await Promise.all([readCatalogHead(deps.store, tenantId), everyType(deps.store, tenantId)]);
    res.json(catalogDocument(types, head.revision));
  });

  router.get("/", async (req, res) => {
    const q = parseWith(pageQuerySchema, req.query);
    const page = await listEventTypes(deps.store, deps.tenantIdOf(req), {
      limit: q.limit,
      after: cursorOf(q.cursor, catalogCursorSchema),
    });
    res.json({ data: page.items.map(eventTypeView), next_cursor: page.nextCursor });
  });

  router.get("/:name", async (req, res) => {
    const name = nameOf(req);
    const found = await getEventType(deps.store, deps.tenantIdOf(req), name);
    if (!found) throw problems.notFound(`Event type ${name}`);
    res.json(eventTypeView(found));
  });

  router.get("/:name/versions", async (req, res) => {
    const name = nameOf(req);
    const q = parseWith(pageQuerySchema, req.query);
    const tenantId = deps.tenantIdOf(req);
    if (!(await getEventType(deps.store, tenantId, name))) throw problems.notFound(`Event type ${name}`);
    const page = await listEventTypeVersions(deps.store, tenantId, name, {
      limit: q.limit,
      after: cursorOf(q.cursor, catalogCursorSchema),
    });
    res.json({ data: page.items.map(eventTypeVersionView), next_cursor: page.nextCursor });
  });

  router.put(
    "/:name",
    deps.actionLimit,
    requireJson,
    // Raw, so that nesting is bounded before anything parses it (a schema 10,000 levels deep never reaches Ajv).
    express.raw({ type: () => true, limit: maxExamplesBytes + 80_000 }),
    async (req, res) => {
      const name = nameOf(req);
      const input = parseWith(eventTypeInputSchema, jsonObjectOf(req.body, deps.maxJsonDepth + 3));
      const examples = input.examples ?? [];
      const examplesBytes = Buffer.byteLength(JSON.stringify(examples));
      if (examplesBytes > maxExamplesBytes)
        throw problems.invalid([
          { path: "examples", message: `${examplesBytes} bytes together; at most ${maxExamplesBytes}` },
        ]);
      if (input.schema !== undefined) {
        const refused = await admitSchema(input.schema, examples, payloadLimits);
        if (refused.length)
          throw problems.invalid(
            refused.map((p) => ({ path: p.field, pointer: p.pointer, message: p.message })),
            "The schema, or an example, cannot be accepted.",
          );
      }
      const out = await putEventType(deps.store, deps.tenantIdOf(req), name, input, deps.now());
      res.status(out.created ? 201 : 200).json(eventTypeView(out.record));
    },
  );

  router.delete("/:name", deps.actionLimit, async (req, res) => {
    const name = nameOf(req);
    if (!(await deleteEventType(deps.store, deps.tenantIdOf(req), name, deps.now())))
      throw problems.notFound(`Event type ${name}`);
    res.status(204).end();
  });

  return router;
}

/** `/v1/catalog`: the catalog's one setting. */
export function catalogSettingsRoutes(deps: EventTypeRoutesDeps): Router {
  const router = Router();
  router.get("/", async (req, res) => {
    const head = await readCatalogHead(deps.store, deps.tenantIdOf(req));
    res.json({ catalog_required: head.catalogRequired, revision: head.revision });
  });
  router.patch("/", deps.actionLimit, requireJson, express.json({ limit: "4kb" }), async (req, res) => {
    const input = parseWith(catalogSettingsInputSchema, req.body);
    const head = await setCatalogRequired(deps.store, deps.tenantIdOf(req), input.catalog_required);
    res.json({ catalog_required: head.catalogRequired, revision: head.revision });
  });
  return router;
}

/** Every type of the tenant (for the published document), page by page. */
async function everyType(store: EventStore, tenantId: string) {
  const all = [];
  let after: CatalogCursor | undefined;
  do {
    const page = await listEventTypes(store, tenantId, { limit: 100, after });
    all.push(...page.items);
    after = page.nextCursor ? cursorOf(page.nextCursor, catalogCursorSchema) : undefined;
  } while (after);
  return all;
}
