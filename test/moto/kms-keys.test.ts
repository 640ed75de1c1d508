/**
 * The production key provider against KMS as moto's server implements it (GenerateDataKey, Decrypt, encryption
 * context): the same seal and open as with the local key file. Part of `npm run test:moto` (moto serves KMS on the
 * same port as DynamoDB and SQS), which CI runs wherever moto_server is installed.
 */
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createAwsClients, type AwsClients } from "../../services/aws/clients.ts";
import { kmsKeyProvider } from "../../services/aws/kms-keys.ts";
import { cachedKeys, localKeyProvider, openSecrets, sealSecrets } from "../../services/aws/secret-keys.ts";
import { newEndpointRecord, type Tenant } from "../../services/core/tenant.ts";
import { localCredentials } from "../../services/local/local-stack.ts";

let clients: AwsClients;
let keyId: string;

describe("KMS key provider", () => {
  beforeAll(async () => {
    if (inject("backend") !== "moto") throw new Error("test/moto runs with TEST_BACKEND=moto (npm run test:moto)");
    clients = createAwsClients({
      region: "us-east-1",
      endpoints: { kms: inject("sqsEndpoint") },
      credentials: localCredentials,
    });
    keyId = (await clients.kms.send(new CreateKeyCommand({ Description: "test" }))).KeyMetadata!.KeyId!;
  }, 30_000);
  afterAll(() => {
    clients.destroy();
  });

  const tenant: Tenant = {
    tenantId: "ten_1",
    name: "t",
    status: "active",
    createdAt: 0,
    version: 0,
    endpoints: { ep_1: newEndpointRecord({ url: "https://hooks.example/in" }, "whsec_kms", 0) },
  };

  it("seals with a KMS data key and opens with KMS's Decrypt; the stored form holds only the encrypted data key", async () => {
    const keys = cachedKeys(kmsKeyProvider(clients.kms, keyId));
    const sealed = await sealSecrets(keys, tenant);
    const stored = sealed.endpoints.ep_1!.secrets[0]!;
    expect(stored.secret).toBeUndefined();
    expect(stored.sealed?.encryptedKey).toMatch(/^kms:/);
    // Another process (a worker) with only the key id opens it.
    expect(
      await openSecrets(cachedKeys(kmsKeyProvider(clients.kms, keyId)), { tenantId: "ten_1", endpointId: "ep_1" }, [
        stored,
      ]),
    ).toEqual(["whsec_kms"]);
  });

  it("opens a secret sealed under another key than the one it seals with: the ciphertext names its key", async () => {
    // A deployment that moved to a new key, or was re-created around its retained one: what was sealed before opens.
    const earlier = (await clients.kms.send(new CreateKeyCommand({ Description: "earlier" }))).KeyMetadata!.KeyId!;
    const sealed = await sealSecrets(kmsKeyProvider(clients.kms, earlier), tenant);
    expect(
      await openSecrets(kmsKeyProvider(clients.kms, keyId), { tenantId: "ten_1", endpointId: "ep_1" }, [
        sealed.endpoints.ep_1!.secrets[0]!,
      ]),
    ).toEqual(["whsec_kms"]);
  });

  it("says so when a secret was sealed by the other kind of provider", async () => {
    const local = await sealSecrets(localKeyProvider(Buffer.alloc(32, 1)), tenant);
    await expect(
      openSecrets(
        kmsKeyProvider(clients.kms, keyId),
        { tenantId: "ten_1", endpointId: "ep_1" },
        local.endpoints.ep_1!.secrets,
      ),
    ).rejects.toThrow(/sealed with a local key file/);
  });
});
