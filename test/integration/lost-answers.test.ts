/**
 * A DynamoDB answer lost on the way back (a dropped connection, a client timeout under load): the SDK sends the call
 * again, and what the first try wrote must be recognised as ours rather than spend another attempt of the budget.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../services/aws/clients.ts";
import { createEvent } from "../../services/aws/events/create-event.ts";
import { takeLease } from "../../services/aws/events/delivery-ops.ts";
import { newDelivery } from "../../services/core/delivery-state.ts";
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
  it("of a lease: the SDK's next try is refused by that lease, which is taken as ours (one attempt spent)", async () => {
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
    const clients = createAwsClients({
      region: "us-east-1",
      endpoints: { dynamodb: proxy.url },
      credentials: localCredentials,
    });
    try {
      proxy.loseAnswer("UpdateItem", 1);
      const lease = await takeLease(
        { ...stack.store, ddb: clients.ddb },
        { tenantId: tenant.tenantId, eventId, endpointId },
        { now, leaseId: "lease-1", leaseMs: 10_000, maxAttempts: 3 },
      );
      expect(proxy.count("UpdateItem")).toBe(2);
      expect(lease).toMatchObject({ ok: true, delivery: { attempts: 1, leaseId: "lease-1" } });
    } finally {
      clients.destroy();
    }
  });
});
