/**
 * A change to an endpoint reaches every delivery started after the API answered it, even through the
 * worker's tenant cache: fix a URL, then requeue from the DLQ, and the requeued deliveries go to the new URL;
 * rotate a secret, then retry, and the retry is signed with the new secret.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let tenant: CreatedTenant;
const admin = () => `Bearer ${stack.adminToken}`;

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "100ms", BREAKER_FAILURES: "1000" });
  receiver = await startReceiver();
  receiver.behave((req) => (req.url.endsWith("?old") ? { status: 500 } : { status: 200 }));
  tenant = await stack.createTenant([{ url: `${receiver.url}?old` }]);
  // The worker caches tenants for 10 s, as in production.
  stack.startWorker({ tenantCacheTtlMs: 10_000 });
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const dead = async (): Promise<string> => {
  const { body } = await postEvent(stack, tenant.apiKey, { type: "change" });
  await eventually(async () => (await getEvent(stack, tenant.apiKey, body.event_id)).status === "DEAD", {
    what: "the event dead",
  });
  return String(body.event_id);
};
const endpointPath = () => `/v1/endpoints/${tenant.endpoints[0]!.endpointId}`;

it("a DLQ requeue right after the endpoint's URL was fixed delivers to the new URL", async () => {
  const eventId = await dead();
  const patched = await stack.http
    .patch(endpointPath())
    .set("authorization", `Bearer ${tenant.apiKey}`)
    .send({ url: `${receiver.url}?new` });
  expect(patched.status).toBe(200);
  const requeue = await stack.http
    .post("/admin/dlq/requeue")
    .set("authorization", admin())
    .send({ tenant_id: tenant.tenantId, max_messages: 10 });
  expect(requeue.body.moved).toBe(1);
  await eventually(async () => (await getEvent(stack, tenant.apiKey, eventId)).status === "DELIVERED", {
    what: "delivered at the new URL",
  });
  const webhookId = (await getEvent(stack, tenant.apiKey, eventId)).deliveries[0]!.webhook_id;
  expect(
    receiver.requests.filter((r) => r.headers["webhook-id"] === webhookId).map((r) => r.url.split("?")[1]),
  ).toEqual(["old", "old", "new"]);
});

it("a retry right after a rotation is signed with the new secret", async () => {
  await stack.http
    .patch(endpointPath())
    .set("authorization", `Bearer ${tenant.apiKey}`)
    .send({ url: `${receiver.url}?old` });
  const eventId = await dead();
  const rotated = await stack.http
    .post(`${endpointPath()}/rotate-secret`)
    .set("authorization", `Bearer ${tenant.apiKey}`)
    .send({ grace_period: "0s" });
  expect(rotated.status).toBe(201);
  await stack.http
    .patch(endpointPath())
    .set("authorization", `Bearer ${tenant.apiKey}`)
    .send({ url: `${receiver.url}?new` });
  const retry = await stack.http.post(`/v1/events/${eventId}/retry`).set("authorization", `Bearer ${tenant.apiKey}`);
  expect(retry.status).toBe(202);
  await eventually(async () => (await getEvent(stack, tenant.apiKey, eventId)).status === "DELIVERED", {
    what: "the retry delivered",
  });
  const last = receiver.requests.at(-1)!;
  expect(last.url.endsWith("?new")).toBe(true);
  verifyWithIndependentLibraries(last, rotated.body.secret as string);
  expect(() => verifyWithIndependentLibraries(last, tenant.endpoints[0]!.secret)).toThrow();
});
