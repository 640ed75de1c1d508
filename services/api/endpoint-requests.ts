/** The request bodies of the endpoint routes, apart from their handlers: the API, its OpenAPI document and the portal's types read them. */
import { z } from "zod";
import { durationSchema } from "../core/retry-policy.ts";
import { maxRotationGraceMs } from "../core/tenant.ts";
import { maxRecoverEvents } from "./recover-endpoint.ts";
import { eventTypeNameSchema, maxExamples } from "../core/event-catalog.ts";
import {
  endpointInputObject,
  endpointInputSchema,
  eventTypeFilterSchema,
  payloadFilterSchema,
} from "./tenant-records.ts";
import type { AwsDestinationRules } from "./destination-input.ts";

/** The request bodies (the URL check depends on whether private targets are allowed). */
export function endpointSchemas(allowPrivate: boolean, allowedPorts?: readonly number[], aws?: AwsDestinationRules) {
  const create = endpointInputObject(allowPrivate, allowedPorts);
  return {
    create: endpointInputSchema(allowPrivate, allowedPorts, aws),
    // Where-to fields are checked against the endpoint as stored (destination-input.ts).
    update: create
      .partial()
      .extend({
        enabled: z.boolean().optional(),
        // null clears an override (the worker's default applies again) or the filter.
        filter: create.shape.filter.unwrap().nullable().optional(),
        max_in_flight: create.shape.max_in_flight.unwrap().nullable().optional(),
        rate_limit: create.shape.rate_limit.unwrap().nullable().optional(),
      })
      .strict(),
    rotate: z
      .object({
        grace_period: durationSchema("30m or 24h")
          .refine((ms) => ms <= maxRotationGraceMs, "at most 7d")
          .optional()
          .meta({ description: "How long the older secrets keep signing, e.g. 24h; at most 7d." }),
      })
      .strict(),
    test: z.strictObject({
      event_type: eventTypeNameSchema.optional().meta({
        description: "Send one of this catalog type's examples instead of a `webhook.test` event.",
      }),
      example: z
        .number()
        .int()
        .min(0)
        .max(maxExamples - 1)
        .default(0)
        .meta({ description: "Which example (0-based)." }),
    }),
    filterTest: z.strictObject({
      filter: payloadFilterSchema,
      event_types: z.array(eventTypeFilterSchema).max(100).optional(),
    }),
    recover: z
      .object({
        since: z.iso.datetime({ offset: true }).meta({
          description:
            "Requeue the endpoint's deliveries that died, or were skipped while it was disabled, at or after this time.",
        }),
        until: z.iso
          .datetime({ offset: true })
          .optional()
          .meta({ description: "…and at or before this time (default: no end)." }),
        dry_run: z.boolean().default(false).meta({ description: "Count what would be requeued, change nothing." }),
        limit: z
          .number()
          .int()
          .min(1)
          .max(maxRecoverEvents)
          .default(maxRecoverEvents)
          .meta({ description: `Dead or skipped events looked at in this call (at most ${maxRecoverEvents}).` }),
        cursor: z
          .string()
          .optional()
          .meta({ description: "`next_cursor` of the previous call, to go on where it stopped." }),
      })
      .strict()
      // A range that ends before it starts is the caller's mistake (422), never a query DynamoDB refuses (a 500).
      .refine((r) => r.until === undefined || Date.parse(r.until) >= Date.parse(r.since), {
        path: ["until"],
        error: "must not be before since",
      }),
  };
}
