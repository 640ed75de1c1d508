/**
 * The reserved tenant that owns the platform's operational events and the endpoints operators subscribe to them:
 * a tenant id no ULID can take, never listed as a tenant, never given an API key. Free of zod, so the console's
 * bundle can import it.
 */
import type { Tenant } from "./tenant.ts";

/** Passes as a tenant id; a ULID starts with its time, and ten zeros are 1970-01-01T00:00:00.000Z. */
export const systemTenantId = "ten_00000000000000000000SYSTEM";

export function isSystemTenant(tenantId: string): boolean {
  return tenantId === systemTenantId;
}

/** The system tenant as first stored: no endpoints until an operator subscribes one. */
export function systemTenant(now: number): Tenant {
  return {
    tenantId: systemTenantId,
    name: "operational webhooks",
    status: "active",
    createdAt: now,
    endpoints: {},
    version: 0,
  };
}
