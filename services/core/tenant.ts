/** Tenants and their endpoints as stored, and which signing secrets are live. */
import { z } from "zod";

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
});
export type Tenant = z.infer<typeof tenantSchema>;

/** Secrets a delivery is signed with now: every one not past its grace period, newest first. */
export function liveSecrets(endpoint: Endpoint, now: number): string[] {
  return endpoint.secrets
    .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((s) => s.secret);
}
