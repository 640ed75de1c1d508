/**
 * The TypeScript client (clients/typescript) against the running stack over real HTTP: generated from the document
 * the app serves (and failing when the committed one is stale), then a tenant's and an operator's day through it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateClient, generatedDir } from "../../clients/typescript/scripts/codegen.ts";
import {
  createPlatformClient,
  isProblem,
  paginate,
  ProblemError,
  verifyWebhook,
  type PlatformApi,
} from "../../clients/typescript/src/index.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let server: Server;
let receiver: TestReceiver;
let baseUrl: string;
let admin: PlatformApi;

beforeAll(async () => {
  // A delivery dies after two attempts; a tenant may send 3 events at once, then 2 a second (Retry-After: 1).
  stack = await startStack({ RETRY_SCHEDULE: "100ms", INGEST_RATE_PER_S: "2", INGEST_BURST: "3" });
  server = stack.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver = await startReceiver();
  admin = createPlatformClient({ baseUrl, token: stack.adminToken });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await stack.close();
  await receiver.close();
});

/** Every file under `dir`, by its path relative to it. */
function filesOf(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, encoding: "utf8", withFileTypes: false })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => [f, readFileSync(join(dir, f), "utf8")]),
  );
}

async function newTenant(name: string): Promise<{ id: string; api: PlatformApi }> {
  const { data } = await admin.postAdminTenants({ body: { name } });
  return { id: data.tenant_id, api: createPlatformClient({ baseUrl, token: data.api_key }) };
}

describe("the generated client", () => {
  it("is what generating from the document the app serves gives now (else: npm run generate:client)", async () => {
    const served = await stack.http.get("/openapi.json");
    expect(served.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), "client-gen-"));
    try {
      await generateClient(served.body as object, dir);
      const fresh = filesOf(dir);
      const committed = filesOf(join(import.meta.dirname, "../../clients/typescript", generatedDir));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [file, text] of fresh) expect(committed.get(file), `${generatedDir}/${file} is stale`).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a tenant and an operator through the client", () => {
  it("creates a tenant and an endpoint, sends, lists, rotates, retries, and requeues from the DLQ", async () => {
    receiver.behave(() => ({ status: 500 }));
    const tenant = await newTenant("Client Co");
    const { data: endpoint } = await tenant.api.postV1Endpoints({ body: { url: receiver.url } });
    expect(endpoint.secret).toMatch(/^whsec_/);
    stack.startWorker();

    const sent: string[] = [];
    for (let i = 0; i < 3; i++)
      sent.push((await tenant.api.postV1Events({ body: { type: "order.created", i } })).data.event_id);
    await eventually(
      async () => {
        const { data } = await tenant.api.getV1Events({ query: { status: "DEAD" } });
        return data.data.length === 3;
      },
      { what: "three dead events", timeoutMs: 20_000 },
    );

    // A page of one at a time: the iterator follows next_cursor through all three.
    const dead: string[] = [];
    for await (const e of paginate((cursor) => tenant.api.getV1Events({ query: { status: "DEAD", limit: 1, cursor } })))
      dead.push(e.event_id);
    expect(dead.sort()).toEqual([...sent].sort());

    const dlq = await admin.getAdminDlq({ query: { tenant_id: tenant.id } });
    expect(dlq.data.data.map((m) => m.event_id).sort()).toEqual([...sent].sort());

    const { data: rotated } = await tenant.api.postV1EndpointsByEndpointIdRotateSecret({
      path: { endpointId: endpoint.endpoint_id },
    });
    expect(rotated.secret).not.toBe(endpoint.secret);

    receiver.behave(() => ({ status: 200 }));
    receiver.requests.length = 0;
    const { data: retried } = await tenant.api.postV1EventsByEventIdRetry({ path: { eventId: sent[0]! } });
    expect(retried).toEqual({ event_id: sent[0], requeued: [endpoint.endpoint_id], already_queued: [] });
    const { data: requeued } = await admin.postAdminDlqRequeue({ body: { tenant_id: tenant.id, max_messages: 10 } });
    expect(requeued.moved + requeued.stale).toBe(3);
    await eventually(
      async () => {
        const events = await Promise.all(sent.map((eventId) => tenant.api.getV1EventsByEventId({ path: { eventId } })));
        return events.every((e) => e.data.status === "DELIVERED");
      },
      { what: "all three delivered", timeoutMs: 20_000 },
    );
    // Signed with the new secret and the old one during the grace period: the package's verifyWebhook takes either.
    const delivered = receiver.requests[0]!;
    expect(verifyWebhook(delivered.headers, delivered.body, rotated.secret)).toEqual({ ok: true, format: "standard" });
    expect(verifyWebhook(delivered.headers, delivered.body, endpoint.secret).ok).toBe(true);
    expect(verifyWebhook(delivered.headers, delivered.body, "whsec_" + "A".repeat(32)).ok).toBe(false);
  });

  it("sends an Idempotency-Key with every event, so a send repeated with it is the same event", async () => {
    const tenant = await newTenant("Keyed Co");
    const keys: string[] = [];
    const recording = createPlatformClient({
      baseUrl,
      token: (await admin.postAdminTenantsByTenantIdApiKeys({ path: { tenantId: tenant.id } })).data.api_key,
      fetch: (input, init) => {
        const request = new Request(input, init);
        const key = request.headers.get("idempotency-key");
        if (key) keys.push(key);
        return fetch(request);
      },
    });
    const first = await recording.postV1Events({ body: { type: "order.paid" } });
    expect(first.response.status).toBe(201);
    expect(keys).toHaveLength(1);
    const again = await tenant.api.postV1Events({
      body: { type: "order.paid" },
      headers: { "idempotency-key": keys[0]! },
    });
    expect(again.response.status).toBe(200);
    expect(again.data.event_id).toBe(first.data.event_id);
  });

  it("waits out 429 as Retry-After says, within its bound, and throws it beyond", async () => {
    const tenant = await newTenant("Busy Co");
    const statuses: number[] = [];
    const key = (await admin.postAdminTenantsByTenantIdApiKeys({ path: { tenantId: tenant.id } })).data.api_key;
    const observed = createPlatformClient({
      baseUrl,
      token: key,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    // The burst is 3: of five sent at once, two are answered 429 (Retry-After: 1) and sent again a second later.
    // At once, not one after another: on a slow backend the bucket refilled between sequential sends.
    const sent = await Promise.all(
      Array.from({ length: 5 }, (_, i) => observed.postV1Events({ body: { type: "burst", i } })),
    );
    const ids = new Set(sent.map((r) => r.data.event_id));
    expect(ids.size).toBe(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    const stored = await tenant.api.getV1Events({ query: { limit: 100 } });
    expect(stored.data.data).toHaveLength(5);

    // A wait longer than allowed is not waited for: the 429 is thrown at once, with what the API asked for.
    const impatient = createPlatformClient({ baseUrl, token: key, retry: { maxDelayMs: 100 } });
    // Sent at once for the same reason as above: one after another, a slow backend refills the bucket between them.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        impatient.postV1Events({ body: { type: "burst" } }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    const err = outcomes.find((e) => e !== undefined);
    expect(isProblem(err, 429)).toBe(true);
    expect((err as ProblemError).retryAfterS).toBeGreaterThanOrEqual(1);
  });

  it("throws problem+json answers as ProblemError, with the invalid fields of a 422", async () => {
    const tenant = await newTenant("Problem Co");
    const notFound = await tenant.api.getV1EventsByEventId({ path: { eventId: "evt_nope" } }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(ProblemError);
    expect(notFound).toMatchObject({ status: 404, name: "ProblemError" });

    const invalid = await tenant.api.postV1Endpoints({ body: { url: "not a url" } }).catch((e: unknown) => e);
    expect(isProblem(invalid, 422)).toBe(true);
    expect((invalid as ProblemError).errors.map((e) => e.path)).toContain("url");

    const stranger = createPlatformClient({ baseUrl, token: "whk_notakey_notasecret" });
    await expect(stranger.getV1Endpoints()).rejects.toMatchObject({ status: 401 });
    // A tenant key on the admin API.
    await expect(tenant.api.getAdminTenants()).rejects.toMatchObject({ status: 403 });
  });
});
