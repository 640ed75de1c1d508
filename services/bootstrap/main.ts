/**
 * `npm run bootstrap`, the container's `bootstrap` role: creates the tables and queues (idempotent), seals any signing
 * secret stored before sealing (when a key to seal with is configured: the sealing job, to its end) and, when DEMO_*
 * are set, the demo tenant. Used by docker compose against LocalStack.
 */
import { parseConfig } from "../config.ts";
import { createAwsClients } from "../aws/clients.ts";
import { provisionAll } from "../aws/provision.ts";
import { awsEndpoints } from "../config.ts";
import { ensureKeyFile } from "../aws/secret-keys.ts";
import { sealAllTenantsInClear } from "../aws/tenants.ts";
import { provisionOptions, secretKeysOf, storesOf } from "../runtime.ts";
import { runMain } from "../shutdown.ts";
import { curlLine, seedDemoTenant } from "./seed-demo.ts";
import { untilReady } from "./until-ready.ts";

runMain(async () => {
  const config = parseConfig(process.env, "bootstrap");
  const clients = createAwsClients({ region: config.AWS_REGION, endpoints: awsEndpoints(config) });
  try {
    // LocalStack may answer its health check before DynamoDB has started (it loads services on first use), so the
    // first calls can time out or fail: provisioning is idempotent, so it is simply tried again for up to a minute.
    const urls = await untilReady(() => provisionAll(clients.dynamo, clients.sqs, provisionOptions(config)), {
      budgetMs: 60_000,
      onRetry: (err, waitMs) =>
        process.stdout.write(
          `backends not ready (${err instanceof Error ? err.message : String(err)}), retrying in ${waitMs} ms\n`,
        ),
    });
    process.stdout.write(`tables ${config.TABLE_PREFIX}-* and queues ${urls.queueUrl}, ${urls.dlqUrl} ready\n`);
    // Compose's key file is made here, once, on the volume the api and the worker read it from.
    if (config.SECRETS_KEY_FILE) await ensureKeyFile(config.SECRETS_KEY_FILE);
    const stores =
      config.SECRETS_KMS_KEY_ID || config.SECRETS_KEY_FILE
        ? storesOf(clients.ddb, config, await secretKeysOf(config, clients))
        : undefined;
    if (stores) {
      const { examined, sealed } = await sealAllTenantsInClear(stores.tenants);
      process.stdout.write(`signing secrets: ${sealed} of ${examined} tenants had some in clear, now sealed\n`);
    } else process.stdout.write("signing secrets: no SECRETS_KMS_KEY_ID or SECRETS_KEY_FILE, not sealed here\n");
    const {
      DEMO_TENANT_ID: tenantId,
      DEMO_API_KEY: apiKey,
      DEMO_ENDPOINT_SECRET: secret,
      DEMO_ENDPOINT_URL: endpointUrl,
    } = config;
    if (stores && tenantId && apiKey && secret && endpointUrl) {
      const created = await seedDemoTenant(stores, { tenantId, apiKey, secret, endpointUrl }, Date.now());
      process.stdout.write(
        `demo tenant ${tenantId} ${created ? "created" : "already there"}; send an event:\n  ${curlLine(config.API_URL, apiKey)}\n`,
      );
    }
  } finally {
    clients.destroy();
  }
});
