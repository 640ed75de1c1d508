/** Tenants and their endpoints as stored, and which signing secrets are live. */
import { z } from "zod";
import { circuitSchema } from "./endpoint-pacing.ts";

export const signingSecretSchema = z.object({
  secret: z.string(),
  createdAt: z.number(),
  /** Set on the old secret during a rotation's grace period. */
  expiresAt: z.number().optional(),
});

export const endpointSchema = z.object({
  url: z.string(),
  description: z.string().optional(),
  eventTypes: z.array(z.string()).default([]),
  secrets: z.array(signingSecretSchema).min(1),
  enabled: z.boolean().default(true),
  disabledReason: z.string().optional(),
  /** Epoch ms of the first failure in the current run of failures; cleared by a success. */
  failingSince: z.number().optional(),
  /** Deliveries in flight to it per worker at most; the worker's default when absent. */
  maxInFlight: z.number().int().positive().optional(),
  /** Deliveries per second at most, across all workers; unlimited when absent. */
  rateLimit: z.number().positive().optional(),
  /** Whether deliveries carry a W3C `traceparent` header (absent: true). */
  sendTraceparent: z.boolean().optional(),
  /** The circuit breaker, as the workers last wrote it (absent: closed). */
  circuit: circuitSchema.optional(),
  createdAt: z.number(),
});
export type Endpoint = z.infer<typeof endpointSchema>;

export const tenantStatuses = ["active", "disabled", "deleted"] as const;

export const tenantSchema = z.object({
  tenantId: z.string(),
  name: z.string(),
  status: z.enum(tenantStatuses),
  createdAt: z.number(),
  endpoints: z.record(z.string(), endpointSchema),
  /** Optimistic concurrency guard for read-modify-write updates (absent on the first write). */
  version: z.number().default(0),
});
export type Tenant = z.infer<typeof tenantSchema>;

export interface EndpointFields {
  readonly url: string;
  readonly description?: string | undefined;
  readonly eventTypes?: string[] | undefined;
  readonly maxInFlight?: number | undefined;
  readonly rateLimit?: number | undefined;
  readonly sendTraceparent?: boolean | undefined;
}

/** A new, enabled endpoint whose first signing secret is `secret`. */
export function newEndpointRecord(fields: EndpointFields, secret: string, now: number): Endpoint {
  const { eventTypes = [], ...rest } = fields;
  return { ...rest, eventTypes, secrets: [{ secret, createdAt: now }], enabled: true, createdAt: now };
}

/** Secrets a delivery is signed with now: every one not past its grace period, newest first. */
export function liveSecrets(endpoint: Endpoint, now: number): string[] {
  return endpoint.secrets
    .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((s) => s.secret);
}

/**
 * A new secret becomes the primary; every older one still live expires after the grace period, so a
 * receiver can switch secrets at any point within it. Secrets already expired are dropped.
 */
export function rotateSecret(endpoint: Endpoint, newSecret: string, now: number, graceMs: number): Endpoint {
  const older = endpoint.secrets
    .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
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
  if (gone) {
    return { ...endpoint, enabled: false, disabledReason: `the endpoint answered 410 Gone at ${new Date(now).toISOString()}` };
  }
  const since = endpoint.failingSince ?? now;
  if (now - since >= attempt.disableAfterMs) {
    return {
      ...endpoint,
      enabled: false,
      disabledReason: `every delivery failed since ${new Date(since).toISOString()}`,
    };
  }
  return endpoint.failingSince === undefined ? { ...endpoint, failingSince: now } : undefined;
}
