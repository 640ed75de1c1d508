/** The key provider's caches and the local key file provider: sealing a tenant's secrets and opening them again. */
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import {
  cachedKeys,
  localKeyProvider,
  openSecrets,
  sealSecrets,
  type KeyProvider,
} from "../../../services/aws/secret-keys.ts";
import { newEndpointRecord, type Tenant } from "../../../services/core/tenant.ts";

/** The local provider, counting what it is asked. */
function counting(inner: KeyProvider) {
  const calls = { dataKey: 0, decrypt: 0 };
  const provider: KeyProvider = {
    dataKey: () => (calls.dataKey++, inner.dataKey()),
    decrypt: (k) => (calls.decrypt++, inner.decrypt(k)),
  };
  return { provider, calls };
}

const tenant = (...secrets: string[]): Tenant => ({
  tenantId: "ten_1",
  name: "t",
  status: "active",
  createdAt: 0,
  version: 0,
  endpoints: Object.fromEntries(
    secrets.map((s, i) => [`ep_${i}`, newEndpointRecord({ url: "https://hooks.example/in" }, s, 0)]),
  ),
});

describe("sealing a tenant's secrets", () => {
  it("seals every secret in clear with one data key, and opens each only at its own endpoint", async () => {
    const { provider, calls } = counting(localKeyProvider(randomBytes(32)));
    const keys = cachedKeys(provider);
    const sealed = await sealSecrets(keys, tenant("whsec_a", "whsec_b"));
    expect(JSON.stringify(sealed)).not.toMatch(/whsec_/);
    expect(await openSecrets(keys, { tenantId: "ten_1", endpointId: "ep_1" }, sealed.endpoints.ep_1!.secrets)).toEqual([
      "whsec_b",
    ]);
    await expect(
      openSecrets(keys, { tenantId: "ten_1", endpointId: "ep_0" }, sealed.endpoints.ep_1!.secrets),
    ).rejects.toThrow();
    await expect(
      openSecrets(keys, { tenantId: "ten_2", endpointId: "ep_1" }, sealed.endpoints.ep_1!.secrets),
    ).rejects.toThrow();
    // One data key for the whole write, and it is reused by the next writes; each data key decrypted once.
    await sealSecrets(keys, tenant("whsec_c"));
    for (let i = 0; i < 5; i++)
      await openSecrets(keys, { tenantId: "ten_1", endpointId: "ep_0" }, sealed.endpoints.ep_0!.secrets);
    expect(calls).toEqual({ dataKey: 1, decrypt: 1 });
  });

  it("asks for no key when nothing is in clear, and opens a secret stored in clear as it is", async () => {
    const { provider, calls } = counting(localKeyProvider(randomBytes(32)));
    const sealed = await sealSecrets(provider, tenant("whsec_a"));
    expect(await sealSecrets(provider, sealed)).toBe(sealed);
    expect(calls.dataKey).toBe(1);
    expect(
      await openSecrets(provider, { tenantId: "ten_1", endpointId: "ep_0" }, [{ secret: "whsec_old", createdAt: 0 }]),
    ).toEqual(["whsec_old"]);
  });

  it("opens nothing with another key file", async () => {
    const sealed = await sealSecrets(localKeyProvider(randomBytes(32)), tenant("whsec_a"));
    await expect(
      openSecrets(
        localKeyProvider(randomBytes(32)),
        { tenantId: "ten_1", endpointId: "ep_0" },
        sealed.endpoints.ep_0!.secrets,
      ),
    ).rejects.toThrow();
  });

  it("makes one data key a day, and a worker decrypts each once however many deliveries follow", async () => {
    const key = randomBytes(32);
    const api = counting(localKeyProvider(key));
    const apiKeys = cachedKeys(api.provider);
    const sealed: Tenant[] = [];
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      // A tenant written every hour for 50 days: 1,200 sealed secrets.
      for (let hour = 0; hour < 1200; hour++) {
        vi.setSystemTime(start + hour * 3_600_000);
        sealed.push(await sealSecrets(apiKeys, tenant(`whsec_${hour}`)));
      }
    } finally {
      vi.useRealTimers();
    }
    expect(api.calls.dataKey).toBe(50);
    const worker = counting(localKeyProvider(key));
    const workerKeys = cachedKeys(worker.provider);
    for (let i = 0; i < 3000; i++)
      await openSecrets(
        workerKeys,
        { tenantId: "ten_1", endpointId: "ep_0" },
        sealed[i % 1200]!.endpoints.ep_0!.secrets,
      );
    expect(worker.calls.decrypt).toBe(50);
  });
});
