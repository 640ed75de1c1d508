/** The demo tenant of the local stacks: one endpoint (the demo receiver) and a known key and secret. */
import { putApiKey } from "../aws/api-keys.ts";
import type { DocumentClient } from "../aws/clients.ts";
import type { TableNames } from "../aws/tables.ts";
import { createTenant, getTenant } from "../aws/tenants.ts";
import { newId, sha256Hex } from "../core/ids.ts";
import { newEndpointRecord } from "../core/tenant.ts";

export interface DemoTenant {
  readonly tenantId: string;
  /** `whk_<id>_<secret>`. */
  readonly apiKey: string;
  readonly secret: string;
  readonly endpointUrl: string;
}

/** Creates the demo tenant unless it exists already; safe to run on every start. */
export async function seedDemoTenant(ddb: DocumentClient, tables: TableNames, demo: DemoTenant, now: number): Promise<boolean> {
  if (await getTenant(ddb, tables.tenants, demo.tenantId)) return false;
  await createTenant(ddb, tables.tenants, {
    tenantId: demo.tenantId,
    name: "Demo tenant",
    status: "active",
    createdAt: now,
    version: 0,
    endpoints: {
      [newId("ep", now)]: newEndpointRecord({ url: demo.endpointUrl, description: "the bundled demo receiver" }, demo.secret, now),
    },
  });
  const keyId = demo.apiKey.split("_")[1] ?? "demo";
  await putApiKey(ddb, tables.apiKeys, {
    keyHash: sha256Hex(demo.apiKey),
    keyId: `key_${keyId}`,
    tenantId: demo.tenantId,
    displayPrefix: `whk_${keyId}`,
    createdAt: now,
  });
  return true;
}

export function curlLine(apiUrl: string, apiKey: string): string {
  const body = JSON.stringify({ type: "order.paid", data: { order_id: "ord_123", amount: 4200 } });
  return `curl -sS -X POST ${apiUrl}/v1/events -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '${body}'`;
}
