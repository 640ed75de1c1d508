/** The demo tenant of the local stacks: one endpoint (the demo receiver) and a known key and secret. */
import { issueApiKey } from "../aws/api-keys.ts";
import { createTenant, getTenant } from "../aws/tenants.ts";
import { newId } from "../core/ids.ts";
import type { Stores } from "../runtime.ts";
import { newEndpointRecord } from "../core/tenant.ts";

export interface DemoTenant {
  readonly tenantId: string;
  /** `whk_<id>_<secret>`. */
  readonly apiKey: string;
  readonly secret: string;
  readonly endpointUrl: string;
}

/** Creates the demo tenant unless it exists already; safe to run on every start. */
export async function seedDemoTenant(stores: Stores, demo: DemoTenant, now: number): Promise<boolean> {
  if (await getTenant(stores.tenants, demo.tenantId)) return false;
  await createTenant(stores.tenants, {
    tenantId: demo.tenantId,
    name: "Demo tenant",
    status: "active",
    createdAt: now,
    version: 0,
    endpoints: {
      [newId("ep", now)]: newEndpointRecord(
        { url: demo.endpointUrl, description: "the bundled demo receiver" },
        demo.secret,
        now,
      ),
    },
  });
  await issueApiKey(stores.apiKeys, demo.tenantId, now, demo.apiKey);
  return true;
}

export function curlLine(apiUrl: string, apiKey: string): string {
  const body = JSON.stringify({ type: "order.paid", data: { order_id: "ord_123", amount: 4200 } });
  return `curl -sS -X POST ${apiUrl}/v1/events -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '${body}'`;
}
