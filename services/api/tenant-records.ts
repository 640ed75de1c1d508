/** What the tenant and endpoint routes share: endpoint input, a new endpoint record, a live tenant or 404. */
import { z } from "zod";
import { endpointUrlProblem } from "../core/endpoint-url.ts";
import { problems } from "../core/errors.ts";
import { filterLimits, filterProblems } from "../core/payload-filter.ts";
import { isId, newId, newSigningSecret } from "../core/ids.ts";
import { newEndpointRecord, type Endpoint, type Tenant } from "../core/tenant.ts";
import { getTenant, type TenantStore } from "../aws/tenants.ts";
import { orderingModes } from "../core/ordering.ts";
import { endpointTypes } from "../core/destination.ts";
import { newDestination, targetIssues, type AwsDestinationRules } from "./destination-input.ts";

export const eventTypeFilterSchema = z
  .string()
  .regex(/^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$/, "a type such as order.paid, order.* or *");

/** A content filter, each problem at its node's JSON pointer. */
export const payloadFilterSchema = z
  .record(z.string(), z.unknown())
  .superRefine((filter, ctx) => {
    for (const p of filterProblems(filter))
      ctx.addIssue({ code: "custom", message: p.message, params: { pointer: p.pointer } });
  })
  .meta({
    description:
      `Deliver only events whose payload matches, e.g. {"data": {"amount": {"$gt": 100}, "currency": {"$in": ["EUR", "USD"]}}}: ` +
      "$eq $neq $in $nin $gt $gte $lt $lte $exists $startsWith $and $or $not; a scalar means equal. " +
      `At most ${filterLimits.maxDepth} levels, ${filterLimits.maxOperators} operators, ${filterLimits.maxBytes} bytes. ` +
      "Checked beside `event_types` (both must match).",
  });

/** `allowedPorts`: the ports a public target may use (ALLOWED_TARGET_PORTS). */
export function endpointInputObject(allowPrivate: boolean, allowedPorts?: readonly number[]) {
  return z.strictObject({
    type: z.enum(endpointTypes).optional().meta({
      description:
        "http (the default): POSTs to `url`. aws_sqs, aws_sns, aws_eventbridge, aws_kinesis: into the customer's queue, topic, bus or stream (`target`), through the role `role_arn`, which trusts the platform with this endpoint's `external_id`.",
    }),
    url: z
      .string()
      .max(2048)
      .superRefine((u, ctx) => {
        const problem = endpointUrlProblem(u, allowPrivate, allowedPorts);
        if (problem) ctx.addIssue(problem);
      })
      .optional()
      .meta({ description: "Where an http endpoint POSTs (required for http; not for AWS destinations)." }),
    target: z.string().max(2048).optional().meta({
      description:
        "An AWS destination's SQS queue URL, or SNS topic, EventBridge event bus or Kinesis stream ARN (required for AWS types).",
    }),
    role_arn: z.string().max(2048).optional().meta({
      description: "The customer's IAM role the platform assumes to deliver (required for AWS types).",
    }),
    description: z.string().max(500).optional(),
    event_types: z.array(eventTypeFilterSchema).max(100).optional(),
    filter: payloadFilterSchema.optional(),
    max_in_flight: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .meta({ description: "Deliveries in flight to it per worker at most (default ENDPOINT_MAX_IN_FLIGHT)." }),
    rate_limit: z
      .number()
      .min(0.1)
      .max(1000)
      .optional()
      .meta({ description: "Deliveries per second at most, across all workers (default: none)." }),
    send_traceparent: z.boolean().optional().meta({
      description: "Send a W3C `traceparent` header, so a receiver that traces joins the trace (default true).",
    }),
    ordering: z.enum(orderingModes).optional().meta({
      description:
        "For events with an `Ordering-Key`: whether a dead or skipped delivery lets the key's next event go (release_on_dead, the default) or holds it until it is retried, recovered or skipped (block_on_dead).",
    }),
  });
}
/** A new endpoint's body: the fields, and its where-to fields checked together (`aws`: when AWS destinations are set up). */
export function endpointInputSchema(
  allowPrivate: boolean,
  allowedPorts?: readonly number[],
  aws?: AwsDestinationRules,
) {
  return endpointInputObject(allowPrivate, allowedPorts).superRefine((v, ctx) => {
    for (const i of targetIssues(v, aws)) ctx.addIssue({ code: "custom", path: [i.path], message: i.message });
  });
}
export type EndpointInput = z.infer<ReturnType<typeof endpointInputSchema>>;

/** A new, enabled endpoint with its first signing secret (returned apart: it is shown once). */
export function newEndpoint(
  input: EndpointInput,
  now: number,
): { endpointId: string; endpoint: Endpoint; secret: string } {
  const secret = newSigningSecret();
  const {
    type,
    target,
    role_arn,
    url,
    description,
    event_types: eventTypes,
    filter,
    max_in_flight: maxInFlight,
    rate_limit: rateLimit,
    send_traceparent: sendTraceparent,
    ordering,
  } = input;
  const destination = newDestination({ type, target, role_arn });
  const endpoint = newEndpointRecord(
    {
      url: destination?.target ?? url!,
      destination,
      description,
      eventTypes,
      filter,
      maxInFlight,
      rateLimit,
      sendTraceparent,
      ordering,
    },
    secret,
    now,
  );
  return { endpointId: newId("ep", now), secret, endpoint };
}

/** The tenant, unless missing, deleted, or not even a tenant id: 404 alike (invariant 4). */
export async function liveTenant(tenants: TenantStore, tenantId: string): Promise<Tenant> {
  const tenant = isId("ten", tenantId) ? await getTenant(tenants, tenantId) : undefined;
  if (!tenant || tenant.status === "deleted") throw problems.notFound(`Tenant ${tenantId}`);
  return tenant;
}
