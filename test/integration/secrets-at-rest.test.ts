/**
 * Signing secrets at rest: the tenants table never holds one in clear (read here raw, with the SDK, as anyone with a
 * backup or read access would), deliveries still verify with the libraries receivers use, and a secret stored in
 * clear before sealing keeps working and is sealed by the next write of its tenant, or by the sealing job (the admin
 * route, a page at a time; the bootstrap, to the end) for a tenant nobody writes.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueApiKey } from "../../services/aws/api-keys.ts";
import { newId, newSigningSecret } from "../../services/core/ids.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

/** The tenant's item exactly as DynamoDB holds it. */
async function rawTenant(tenantId: string): Promise<string> {
  const { Item } = await stack.clients.ddb.send(new GetCommand({ TableName: stack.tables.tenants, Key: { tenantId } }));
  return JSON.stringify(Item);
}

const keyOf = (secret: string) => secret.slice("whsec_".length);

async function deliveredRequest(apiKey: string, type: string) {
  const { body } = await postEvent(stack, apiKey, { type });
  await eventually(async () => (await getEvent(stack, apiKey, body.event_id)).status === "DELIVERED", {
    what: `${type} delivered`,
  });
  return receiver.requests.find((r) => JSON.parse(r.body.toString()).type === type)!;
}

describe("signing secrets at rest", () => {
  it("are sealed when an endpoint is created and when its secret is rotated; deliveries verify with both libraries", async () => {
    const t = await stack.createTenant([{ url: receiver.url }]);
    const first = t.endpoints[0]!.secret;
    const created = await rawTenant(t.tenantId);
    expect(created).not.toContain(keyOf(first));
    expect(created).not.toContain("whsec_");
    // Key order in a map is the backend's (DynamoDB Local sorts it): look at the structure, not the text.
    const stored = JSON.parse(created) as {
      endpoints: Record<string, { secrets: { sealed?: { v: number }; secret?: string }[] }>;
    };
    expect(stored.endpoints[t.endpoints[0]!.endpointId]!.secrets.map((s) => [s.sealed?.v, s.secret])).toEqual([
      [1, undefined],
    ]);
    verifyWithIndependentLibraries(await deliveredRequest(t.apiKey, "sealed.created"), first);

    const rotated = await stack.http
      .post(`/v1/endpoints/${t.endpoints[0]!.endpointId}/rotate-secret`)
      .set("authorization", `Bearer ${t.apiKey}`)
      .send({ grace_period: "1h" });
    const second = rotated.body.secret as string;
    const raw = await rawTenant(t.tenantId);
    for (const secret of [first, second]) expect(raw).not.toContain(keyOf(secret));
    const during = await deliveredRequest(t.apiKey, "sealed.rotated");
    verifyWithIndependentLibraries(during, first);
    verifyWithIndependentLibraries(during, second);

    const another = await stack.http
      .post("/v1/endpoints")
      .set("authorization", `Bearer ${t.apiKey}`)
      .send({ url: `${receiver.url}?another` });
    expect(await rawTenant(t.tenantId)).not.toContain(keyOf(another.body.secret as string));
  });

  it("a secret stored in clear before sealing still signs, and the tenant's next write seals it", async () => {
    const { tenantId, endpointId, secret } = await legacyTenant();
    const now = Date.now();
    const { apiKey } = await issueApiKey(stack.stores.apiKeys, tenantId, now);
    expect(await rawTenant(tenantId)).toContain(keyOf(secret));
    verifyWithIndependentLibraries(await deliveredRequest(apiKey, "legacy.before"), secret);

    const patched = await stack.http
      .patch(`/v1/endpoints/${endpointId}`)
      .set("authorization", `Bearer ${apiKey}`)
      .send({ description: "any write" });
    expect(patched.status).toBe(200);
    expect(await rawTenant(tenantId)).not.toContain(keyOf(secret));
    verifyWithIndependentLibraries(await deliveredRequest(apiKey, "legacy.after"), secret);
  });

  it("the sealing job seals every tenant nobody writes, a page a call, resumed by its cursor; run again it writes nothing", async () => {
    const legacy = await Promise.all([legacyTenant(), legacyTenant(), legacyTenant()]);
    const run = async () => {
      let sealed = 0;
      let cursor: string | undefined;
      do {
        const res = await stack.http
          .post("/admin/seal-secrets")
          .set("authorization", `Bearer ${stack.adminToken}`)
          .send({ limit: 2, ...(cursor ? { cursor } : {}) });
        expect(res.status, res.text).toBe(200);
        expect(res.body.examined).toBeLessThanOrEqual(2);
        sealed += res.body.sealed as number;
        cursor = (res.body.next_cursor as string | null) ?? undefined;
      } while (cursor);
      return sealed;
    };
    expect(await run()).toBe(3);
    for (const t of legacy) expect(await rawTenant(t.tenantId)).not.toContain(keyOf(t.secret));
    const { apiKey } = await issueApiKey(stack.stores.apiKeys, legacy[0].tenantId, Date.now());
    verifyWithIndependentLibraries(await deliveredRequest(apiKey, "legacy.job"), legacy[0].secret);
    expect(await run()).toBe(0);
  });

  it("the bootstrap runs the sealing job to its end", async () => {
    const t = await legacyTenant();
    const main = fileURLToPath(new URL("../../services/bootstrap/main.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--disable-warning=ExperimentalWarning", main], {
      env: {
        ...process.env,
        ...stack.env,
        AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      },
    });
    expect(await rawTenant(t.tenantId)).not.toContain(keyOf(t.secret));
    expect(stdout).toMatch(/signing secrets: 1 of \d+ tenants had some in clear, now sealed/);
  });
});

/** A tenant written as the code before sealing wrote it: straight to the table, its secret in clear. */
async function legacyTenant(): Promise<{ tenantId: string; endpointId: string; secret: string }> {
  const tenantId = newId("ten");
  const endpointId = newId("ep");
  const secret = newSigningSecret();
  const now = Date.now();
  const endpoint = {
    url: receiver.url,
    eventTypes: [],
    secrets: [{ secret, createdAt: now }],
    enabled: true,
    createdAt: now,
  };
  await stack.clients.ddb.send(
    new PutCommand({
      TableName: stack.tables.tenants,
      Item: {
        tenantId,
        name: "legacy",
        status: "active",
        createdAt: now,
        endpoints: { [endpointId]: endpoint },
        version: 1,
      },
    }),
  );
  expect(await rawTenant(tenantId)).toContain(keyOf(secret));
  return { tenantId, endpointId, secret };
}
