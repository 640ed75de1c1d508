/**
 * A DynamoDB answer lost on the way back (a dropped connection, a client timeout under load): the SDK sends the call
 * again, and what the first try wrote must be recognised as ours rather than spend another attempt of the budget.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../services/aws/clients.ts";
import { createEvent } from "../../services/aws/events/create-event.ts";
import { recordOutcome, takeLease } from "../../services/aws/events/delivery-ops.ts";
import { newDelivery, type AttemptOutcome } from "../../services/core/delivery-state.ts";
import { newId } from "../../services/core/ids.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { startAwsFaultProxy, type AwsFaultProxy } from "../support/aws-fault-proxy.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let proxy: AwsFaultProxy;

beforeAll(async () => {
  stack = await startStack();
  proxy = await startAwsFaultProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB!);
});
afterAll(async () => {
  await proxy.close();
  await stack.close();
});

describe("a lost answer", () => {
  async function storedEvent() {
    const tenant = await stack.createTenant([{ url: "http://127.0.0.1:9/x" }]);
    const endpointId = tenant.endpoints[0]!.endpointId;
    const now = Date.now();
    const eventId = newId("evt", now);
    await createEvent(
      stack.store,
      {
        tenantId: tenant.tenantId,
        eventId,
        type: "order.created",
        body: Buffer.from("{}"),
        bodyHash: "h",
        createdAt: new Date(now).toISOString(),
        status: "PENDING",
        deliveries: { [endpointId]: newDelivery(newId("msg", now), now) },
        version: 0,
      },
      now,
    );
    return { key: { tenantId: tenant.tenantId, eventId, endpointId }, now };
  }

  /** The store as a worker has it, its DynamoDB calls through the proxy. */
  async function viaProxy<T>(use: (store: Stack["store"]) => Promise<T>): Promise<T> {
    const clients = createAwsClients({
      region: "us-east-1",
      endpoints: { dynamodb: proxy.url },
      credentials: localCredentials,
    });
    try {
      return await use({ ...stack.store, ddb: clients.ddb });
    } finally {
      clients.destroy();
    }
  }

  it("of a lease: the SDK's next try is refused by that lease, which is taken as ours (one attempt spent)", async () => {
    const { key, now } = await storedEvent();
    const before = proxy.count("UpdateItem");
    proxy.loseAnswer("UpdateItem", 1);
    const lease = await viaProxy((store) =>
      takeLease(store, key, { now, leaseId: "lease-1", leaseMs: 10_000, maxAttempts: 3 }),
    );
    expect(proxy.count("UpdateItem") - before).toBe(2);
    expect(lease).toMatchObject({ ok: true, delivery: { attempts: 1, leaseId: "lease-1" } });
  });

  it.each<[string, AttemptOutcome, string]>([
    ["a success", { kind: "delivered", statusCode: 200 }, "delivered"],
    ["a failure to retry", { kind: "failed", statusCode: 500, error: "HTTP 500" }, "retry"],
    ["a failure that ends it", { kind: "failed", statusCode: 410, error: "HTTP 410", permanent: true }, "dead"],
  ])(
    "of an outcome, %s: the next try finds the delivery as this call wrote it, and the decision is ours",
    async (_, outcome, next) => {
      const { key, now } = await storedEvent();
      const lease = await takeLease(stack.store, key, { now, leaseId: "lease-2", leaseMs: 10_000, maxAttempts: 3 });
      if (!lease.ok) throw new Error(`no lease: ${lease.reason}`);
      const before = proxy.count("UpdateItem");
      proxy.loseAnswer("UpdateItem", 1);
      const input = { now: now + 10, leaseId: "lease-2", schedule: [60_000, 120_000], random: Math.random };
      const decision = await viaProxy((store) => recordOutcome(store, key, outcome, input, lease.event));
      expect(proxy.count("UpdateItem") - before).toBe(2);
      expect(decision).toMatchObject({ ok: true, next });
    },
  );
});
