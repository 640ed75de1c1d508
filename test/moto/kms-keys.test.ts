/**
 * The production key provider against KMS as moto's server implements it (GenerateDataKey, Decrypt, encryption
 * context): the same seal and open as with the local key file. Part of `npm run test:moto` (moto serves KMS on the
 * same port as DynamoDB and SQS), which CI runs wherever moto_server is installed.
 */
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createAwsClients, type AwsClients } from "../../services/aws/clients.ts";
import { kmsKeyProvider } from "../../services/aws/kms-keys.ts";
import { cachedKeys, localKeyProvider, openSecrets, sealSecrets } from "../../services/aws/secret-keys.ts";
import { parseConfig } from "../../services/config.ts";
import { newEndpointRecord, type Tenant } from "../../services/core/tenant.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { secretKeysOf } from "../../services/runtime.ts";

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

  it("costs a long-lived fleet no KMS call per delivery: 1,000 deliveries over 1,200 endpoints sealed an hour apart", async () => {
    // KMS calls counted by command, as CloudTrail would list them.
    const counted = (name: string) => {
      const c = createAwsClients({
        region: "us-east-1",
        endpoints: { kms: inject("sqsEndpoint") },
        credentials: localCredentials,
      });
      const calls: Record<string, number> = {};
      c.kms.middlewareStack.add(
        (next, context) => (args) => {
          const command = context.commandName ?? "unnamed";
          calls[command] = (calls[command] ?? 0) + 1;
          return next(args);
        },
        { step: "initialize", name },
      );
      return { c, calls };
    };
    const config = parseConfig({ SECRETS_KMS_KEY_ID: keyId }, "worker");
    // An API task that wrote one endpoint's secret an hour, for 50 days, wired as the services wire it.
    const api = counted("api");
    const apiKeys = await secretKeysOf(config, api.c);
    const start = Date.now();
    const endpoints: Tenant[] = [];
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      for (let hour = 0; hour < 1200; hour++) {
        vi.setSystemTime(start + hour * 3_600_000);
        endpoints.push(
          await sealSecrets(apiKeys, {
            ...tenant,
            tenantId: `ten_${hour}`,
            endpoints: { ep_1: newEndpointRecord({ url: "https://hooks.example/in" }, `whsec_${hour}`, 0) },
          }),
        );
      }
    } finally {
      vi.useRealTimers();
    }
    // A worker delivering to them in turn: KMS Decrypt calls while it meets each endpoint once (1,200 deliveries),
    // then per 1,000 deliveries after that.
    const worker = counted("worker");
    const workerKeys = await secretKeysOf(config, worker.c);
    const deliver = async (from: number, count: number) => {
      const before = worker.calls.DecryptCommand ?? 0;
      for (let i = from; i < from + count; i++) {
        const t = endpoints[i % endpoints.length]!;
        const [secret] = await openSecrets(
          workerKeys,
          { tenantId: t.tenantId, endpointId: "ep_1" },
          t.endpoints.ep_1!.secrets,
        );
        expect(secret).toBe(`whsec_${i % endpoints.length}`);
      }
      return (worker.calls.DecryptCommand ?? 0) - before;
    };
    const firstPass = await deliver(0, 1200);
    const perThousand = await deliver(1200, 1000);
    api.c.destroy();
    worker.c.destroy();
    // One data key a day (50), not an hour (1,200); each decrypted once by the worker, then never again.
    expect({ generated: api.calls.GenerateDataKeyCommand, firstPass, perThousand }).toEqual({
      generated: 50,
      firstPass: 50,
      perThousand: 0,
    });
  }, 120_000);
});
