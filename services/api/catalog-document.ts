/**
 * A tenant's event catalog as an OpenAPI 3.1 document for its consumers: one `webhooks` entry per event type, its
 * schema under `components.schemas` (references rewritten to where it now sits) and its examples, so that
 * openapi-typescript and friends generate the payloads' types from it.
 */
import type { EventTypeRecord } from "../core/event-catalog.ts";
import { withRefs } from "../core/schema-bounds.ts";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function catalogDocument(types: readonly EventTypeRecord[], revision: number): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const webhooks: Record<string, unknown> = {};
  for (const t of types) {
    const home = `#/components/schemas/${t.name}`;
    const parsed: unknown = t.schemaJson === undefined ? { type: "object" } : JSON.parse(t.schemaJson);
    // Top-level $defs become components of their own (`order.paid__money`): generators take a $defs left in place
    // for a property of the payload.
    const defs = isObject(parsed) && isObject(parsed.$defs) ? parsed.$defs : {};
    const homes = new Map<string, string>();
    for (const def of Object.keys(defs)) {
      let key = `${t.name}__${def.replace(/[^A-Za-z0-9._-]/g, "_")}`;
      while ([...homes.values()].includes(key) || key in schemas) key += "_";
      homes.set(def, key);
    }
    const rewrite = (ref: string) => {
      const [, def, rest = ""] = /^#\/\$defs\/([^/]+)(\/.*)?$/.exec(ref) ?? [];
      const key =
        def === undefined ? undefined : homes.get(decodeURIComponent(def.replaceAll("~1", "/").replaceAll("~0", "~")));
      if (key !== undefined) return `#/components/schemas/${key}${rest}`;
      return ref === "#" ? home : `${home}${ref.slice(1)}`;
    };
    const schema = withRefs(parsed, rewrite);
    if (isObject(schema)) {
      delete schema.$schema;
      delete schema.$defs;
    }
    schemas[t.name] = schema;
    for (const [def, key] of homes) schemas[key] = withRefs(defs[def], rewrite);
    const examples = JSON.parse(t.examplesJson) as unknown[];
    webhooks[t.name] = {
      post: {
        operationId: t.name,
        summary: t.description ?? t.name,
        ...(t.deprecated ? { deprecated: true } : {}),
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: { $ref: home },
              ...(examples.length
                ? { examples: Object.fromEntries(examples.map((value, i) => [`example${i + 1}`, { value }])) }
                : {}),
            },
          },
        },
        responses: {
          "2XX": { description: "Received. Anything else is retried on the schedule, then dead-lettered." },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Webhook events",
      version: String(revision),
      description:
        "The events this sender posts to your endpoints, each signed (Standard Webhooks and Stripe-Signature headers). " +
        "`version` is the catalog's revision: it moves on with every change.",
    },
    webhooks,
    components: { schemas },
  };
}
