/**
 * Tenants and their endpoints as stored, and every change to them as a pure transition (the tenant store
 * applies each under the tenant's version guard): endpoints added, changed, removed, disabled and enabled,
 * secrets rotated, the tenant renamed, disabled or deleted.
 */
import { z } from "zod";
import { destinationSchema, type Destination } from "./destination.ts";
import { circuitSchema } from "./endpoint-pacing.ts";
import { orderingModes, type OrderingMode } from "./ordering.ts";
import { problems } from "./errors.ts";
import type { PayloadFilter } from "./payload-filter.ts";
import { sealedSchema } from "./sealing.ts";

/**
 * A signing secret as stored: sealed (core/sealing.ts), or in clear as secrets were stored before sealing and as a
 * new one is until the tenant store writes it (which seals every secret in clear, so any write re-seals old ones).
 */
export const signingSecretSchema = z
  .object({
    secret: z.string().optional(),
    sealed: sealedSchema.optional(),
    createdAt: z.number(),
    /** Set on the old secret during a rotation's grace period. */
    expiresAt: z.number().optional(),
  })
  .refine((s) => (s.secret === undefined) !== (s.sealed === undefined), "a secret is either sealed or in clear");
export type SigningSecret = z.infer<typeof signingSecretSchema>;

export const endpointSchema = z.object({
  /** Where it is delivered: the HTTPS URL; for an AWS destination, its target (queue URL or ARN) too. */
  url: z.string(),
  /** An AWS destination's type, target, role and external id (absent: an HTTP endpoint). */
  destination: destinationSchema.optional(),
  description: z.string().optional(),
  eventTypes: z.array(z.string()).default([]),
  /** A filter on the payload's content (core/payload-filter.ts), beside the event-type filter; absent: none. */
  filter: z.custom<PayloadFilter>((v) => typeof v === "object" && v !== null && !Array.isArray(v)).optional(),
  secrets: z.array(signingSecretSchema).min(1),
  enabled: z.boolean().default(true),
  disabledReason: z.string().optional(),
  /** Epoch ms when it was disabled: what a recover after re-enabling starts from. */
  disabledAt: z.number().optional(),
  /** Epoch ms of the first failure in the current run of failures; cleared by a success. */
  failingSince: z.number().optional(),
  /** Deliveries in flight to it per worker at most; the worker's default when absent. */
  maxInFlight: z.number().int().positive().optional(),
  /** Deliveries per second at most, across all workers; unlimited when absent. */
  rateLimit: z.number().positive().optional(),
  /** Whether deliveries carry a W3C `traceparent` header (absent: true). */
  sendTraceparent: z.boolean().optional(),
  /** What a dead or skipped delivery of an ordering key does to the key's next (absent: release_on_dead). */
  ordering: z.enum(orderingModes).optional(),
  /** The circuit breaker, as the workers last wrote it (absent: closed). */
  circuit: circuitSchema.optional(),
  /** The in-flight limit a worker last cut it to after failures (absent: its cap). */
  inFlightLimit: z.number().optional(),
  createdAt: z.number(),
});
export type Endpoint = z.infer<typeof endpointSchema>;

export const tenantStatuses = ["active", "disabled", "deleted"] as const;
export type TenantStatus = (typeof tenantStatuses)[number];

export const tenantSchema = z.object({
  tenantId: z.string(),
  name: z.string(),
  status: z.enum(tenantStatuses),
  createdAt: z.number(),
  endpoints: z.record(z.string(), endpointSchema),
  /** Days its data is kept (absent: `defaultRetentionDays`, as for tenants stored before retention was a setting). */
  retentionDays: z.number().int().min(1).max(365).optional(),
  /** Optimistic concurrency guard for read-modify-write updates (absent on the first write). */
  version: z.number().default(0),
});
export type Tenant = z.infer<typeof tenantSchema>;

/** A tenant's retention unless it sets one: what RETENTION_DELIVERED defaulted to before retention was per tenant. */
export const defaultRetentionDays = 30;

export function retentionDaysOf(t: Pick<Tenant, "retentionDays">): number {
  return t.retentionDays ?? defaultRetentionDays;
}

/** How long the tenant's data written now is kept, in ms. */
export function retentionMsOf(t: Pick<Tenant, "retentionDays">): number {
  return retentionDaysOf(t) * 86_400_000;
}

export interface EndpointFields {
  readonly url: string;
  readonly destination?: Destination | undefined;
  readonly description?: string | undefined;
  readonly eventTypes?: string[] | undefined;
  readonly filter?: PayloadFilter | undefined;
  readonly maxInFlight?: number | undefined;
  readonly rateLimit?: number | undefined;
  readonly sendTraceparent?: boolean | undefined;
  readonly ordering?: OrderingMode | undefined;
}

/** A new, enabled endpoint whose first signing secret is `secret`. */
export function newEndpointRecord(fields: EndpointFields, secret: string, now: number): Endpoint {
  const { eventTypes = [], ...rest } = fields;
  return { ...rest, eventTypes, secrets: [{ secret, createdAt: now }], enabled: true, createdAt: now };
}

/** Endpoints a tenant may have. */
export const maxEndpoints = 50;

/** The tenant with one more endpoint; a conflict once it has `maxEndpoints`. */
export function addEndpoint(t: Tenant, endpointId: string, endpoint: Endpoint): Tenant {
  if (Object.keys(t.endpoints).length >= maxEndpoints)
    throw problems.conflict(`A tenant has at most ${maxEndpoints} endpoints.`);
  return { ...t, endpoints: { ...t.endpoints, [endpointId]: endpoint } };
}

export function removeEndpoint(t: Tenant, endpointId: string): Tenant {
  return { ...t, endpoints: Object.fromEntries(Object.entries(t.endpoints).filter(([id]) => id !== endpointId)) };
}

/** What a PATCH may change; `null` clears an override so the worker's default applies again. */
export interface EndpointPatch {
  readonly url?: string | undefined;
  /** An AWS destination's new target or role (its type and external id stay). */
  readonly destination?: Destination | undefined;
  readonly description?: string | undefined;
  readonly eventTypes?: string[] | undefined;
  readonly filter?: PayloadFilter | null | undefined;
  readonly maxInFlight?: number | null | undefined;
  readonly rateLimit?: number | null | undefined;
  readonly sendTraceparent?: boolean | undefined;
  readonly ordering?: OrderingMode | undefined;
  readonly enabled?: boolean | undefined;
}

export function updateEndpoint(e: Endpoint, patch: EndpointPatch, now: number): Endpoint {
  const next: Endpoint = {
    ...e,
    url: patch.destination?.target ?? patch.url ?? e.url,
    destination: patch.destination ?? e.destination,
    description: patch.description ?? e.description,
    eventTypes: patch.eventTypes ?? e.eventTypes,
    filter: patch.filter === undefined ? e.filter : (patch.filter ?? undefined),
    maxInFlight: patch.maxInFlight === undefined ? e.maxInFlight : (patch.maxInFlight ?? undefined),
    rateLimit: patch.rateLimit === undefined ? e.rateLimit : (patch.rateLimit ?? undefined),
    sendTraceparent: patch.sendTraceparent ?? e.sendTraceparent,
    ordering: patch.ordering ?? e.ordering,
  };
  if (patch.enabled === undefined) return next;
  return patch.enabled ? enableEndpoint(next) : disableEndpoint(next, "disabled by request", now);
}

/** Disabling a disabled endpoint keeps why and since when it was. */
export function disableEndpoint(e: Endpoint, reason: string, now: number): Endpoint {
  return e.enabled ? { ...e, enabled: false, disabledReason: reason, disabledAt: now } : e;
}

/** Re-enabling starts afresh: the reason and the failure run are forgotten. */
export function enableEndpoint(e: Endpoint): Endpoint {
  return { ...e, enabled: true, disabledReason: undefined, disabledAt: undefined, failingSince: undefined };
}

/**
 * Rename, disable or re-enable, or change the retention (which applies to data written from then on: what is stored
 * keeps the expiry it was written with). A deleted tenant stays deleted (undefined: nothing to change).
 */
export function updateTenant(
  t: Tenant,
  patch: {
    name?: string | undefined;
    status?: "active" | "disabled" | undefined;
    retentionDays?: number | undefined;
  },
): Tenant | undefined {
  if (t.status === "deleted") return undefined;
  return {
    ...t,
    name: patch.name ?? t.name,
    status: patch.status ?? t.status,
    retentionDays: patch.retentionDays ?? t.retentionDays,
  };
}

/** Soft delete: the record stays (its events keep their owner), its keys and deliveries stop. */
export function softDeleteTenant(t: Tenant): Tenant {
  return { ...t, status: "deleted" };
}

/**
 * Secrets that sign at once, at most: the newest and two still in their grace period. Each one costs two HMACs
 * of the body per attempt and a header entry, and two or three are enough for a receiver to switch over (Svix
 * keeps a short list too).
 */
export const maxLiveSecrets = 3;

/** The longest grace period a rotation may give the older secrets. */
export const maxRotationGraceMs = 7 * 86_400_000;

/** Secrets a delivery is signed with now: the newest `maxLiveSecrets` not past their grace period, newest first. */
export function liveSecrets(endpoint: Endpoint, now: number): SigningSecret[] {
  return endpoint.secrets
    .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, maxLiveSecrets);
}

/**
 * A new secret becomes the primary; the newest older ones still live expire after the grace period, so a
 * receiver can switch secrets at any point within it. Secrets already expired, and any beyond
 * `maxLiveSecrets` (the oldest), are dropped: rotating again and again cannot grow the list.
 */
export function rotateSecret(endpoint: Endpoint, newSecret: string, now: number, graceMs: number): Endpoint {
  const older = endpoint.secrets
    .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, maxLiveSecrets - 1)
    .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, now + graceMs) }));
  return { ...endpoint, secrets: [{ secret: newSecret, createdAt: now }, ...older] };
}

export type EndpointHealthChange = Endpoint | undefined;

/**
 * What one attempt's outcome does to its endpoint: a success clears a failure run; a failure starts one,
 * and disables the endpoint once the run is older than `disableAfterMs`, or at once when `gone` (410).
 * Undefined when nothing changes, so the common case writes nothing.
 */
export function endpointAfterAttempt(
  endpoint: Endpoint,
  attempt: { ok: boolean; gone: boolean; now: number; disableAfterMs: number },
): EndpointHealthChange {
  const { ok, gone, now } = attempt;
  if (ok) return endpoint.failingSince === undefined ? undefined : { ...endpoint, failingSince: undefined };
  if (!endpoint.enabled) return undefined;
  if (gone) return disableEndpoint(endpoint, `the endpoint answered 410 Gone at ${new Date(now).toISOString()}`, now);
  const since = endpoint.failingSince ?? now;
  if (now - since >= attempt.disableAfterMs)
    return disableEndpoint(endpoint, `every delivery failed since ${new Date(since).toISOString()}`, now);
  return endpoint.failingSince === undefined ? { ...endpoint, failingSince: now } : undefined;
}
