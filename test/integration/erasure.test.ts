/**
 * Erasing an event's payload on request (DELETE /v1/events/{id}/payload): the payload and every response excerpt are
 * gone from every read path — the API (the tenant's and the operator's, which the console reads), the portal, the DLQ
 * peek, the metrics, the items in DynamoDB and the log lines written meanwhile — its pending deliveries are cancelled and
 * say so, and nothing of it is sent again.
 */
import { randomBytes } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { captureLogs } from "../support/log-capture.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

const { logger, lines } = captureLogs("debug");
let stack: Stack;
let receiver: TestReceiver;
let t: CreatedTenant;
let other: CreatedTenant;
// What the payload carries, and what each receiver echoes back into its response excerpt.
const secretValue = `card-${randomBytes(8).toString("hex")}`;

beforeAll(async () => {
  // A long first retry: the failing delivery is still waiting for it when the payload is erased.
  stack = await startStack({ RETRY_SCHEDULE: "10m,1h" }, { logger });
  receiver = await startReceiver();
  receiver.behave((req) => {
    const echo = req.body.toString();
    if (req.url.endsWith("/ok")) return { status: 200, body: echo };
    if (req.url.endsWith("/gone")) return { status: 410, body: echo };
    return { status: 500, body: echo };
  });
  t = await stack.createTenant([
    { url: `${receiver.url}/ok` },
    { url: `${receiver.url}/failing` },
    { url: `${receiver.url}/gone` },
  ]);
  other = await stack.createTenant([]);
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const as = (auth: string) => ({
  get: (path: string) => stack.http.get(path).set("authorization", `Bearer ${auth}`),
  del: (path: string) => stack.http.delete(path).set("authorization", `Bearer ${auth}`),
});

async function portalToken(readOnly: boolean): Promise<string> {
  const res = await stack.http
    .post(`/admin/tenants/${t.tenantId}/portal-sessions`)
    .set("authorization", `Bearer ${stack.adminToken}`)
    .send({ read_only: readOnly });
  return /#token=(wps_[\w.-]+)$/.exec(res.body.url as string)![1]!;
}

type Delivery = { endpoint_id: string; status: string; last_error?: string; attempt_log: unknown[] };

describe("erasing an event's payload", () => {
  let eventId: string;
  const [ok, failing, gone] = [0, 1, 2];
  const ep = (i: number) => t.endpoints[i]!.endpointId;

  beforeAll(async () => {
    const res = await postEvent(stack, t.apiKey, { type: "card.saved", card: secretValue });
    expect(res.status).toBe(201);
    eventId = res.body.event_id as string;
    // Delivered to one, failed once (waiting 10 min) at another, dead (410) and dead-lettered at the third.
    await eventually(
      async () => {
        const e = (await as(t.apiKey).get(`/v1/events/${eventId}`)).body as { deliveries: Delivery[] };
        const status = (i: number) => e.deliveries.find((d) => d.endpoint_id === ep(i))?.status;
        return status(ok) === "DELIVERED" && status(failing) === "FAILED" && status(gone) === "DEAD";
      },
      { what: "each delivery where the test needs it" },
    );
    // The worker records DEAD before it moves the message to the DLQ: wait for the move too.
    await eventually(
      async () => JSON.stringify((await as(stack.adminToken).get("/admin/dlq")).body).includes(eventId),
      { what: "the dead delivery in the DLQ" },
    );
    expect(JSON.stringify((await as(t.apiKey).get(`/v1/events/${eventId}`)).body)).toContain(secretValue);
  });

  it("answers 404 to another tenant and 403 to a read-only portal session, and erases nothing for them", async () => {
    expectProblem(await as(other.apiKey).del(`/v1/events/${eventId}/payload`), 404);
    expectProblem(await as(await portalToken(true)).del(`/v1/events/${eventId}/payload`), 403);
    expect(JSON.stringify((await as(t.apiKey).get(`/v1/events/${eventId}`)).body)).toContain(secretValue);
  });

  it("removes the payload and every excerpt, cancels the pending delivery, and shows it nowhere after", async () => {
    const erased = await as(t.apiKey).del(`/v1/events/${eventId}/payload`);
    expect(erased.status, erased.text).toBe(200);
    expect(erased.body).toEqual({
      event_id: eventId,
      payload_erased_at: expect.any(String),
      cancelled: [ep(failing)],
      excerpts_removed: 3,
    });

    const event = (await as(t.apiKey).get(`/v1/events/${eventId}`)).body as {
      payload: unknown;
      payload_erased_at: string;
      type: string;
      deliveries: Delivery[];
    };
    expect(event).toMatchObject({
      payload: null,
      payload_erased_at: erased.body.payload_erased_at,
      type: "card.saved",
    });
    expect(event.deliveries.find((d) => d.endpoint_id === ep(failing))).toMatchObject({
      status: "DEAD",
      last_error: "cancelled: the payload was erased",
    });
    // Every attempt record stays (ids, times, status codes), without what the receiver answered.
    expect(event.deliveries.flatMap((d) => d.attempt_log)).toHaveLength(3);

    const portal = await portalToken(false);
    const reads = [
      as(t.apiKey).get(`/v1/events/${eventId}`),
      as(t.apiKey).get(`/v1/events?limit=100`),
      ...[ok, failing, gone].map((i) => as(t.apiKey).get(`/v1/events/${eventId}/deliveries/${ep(i)}/attempts`)),
      as(portal).get(`/v1/events/${eventId}`),
      as(stack.adminToken).get(`/admin/tenants/${t.tenantId}/events/${eventId}`),
      as(stack.adminToken).get(`/admin/tenants/${t.tenantId}/events/${eventId}/deliveries/${ep(ok)}/attempts`),
      as(stack.adminToken).get("/admin/dlq"),
      as(stack.adminToken).get("/metrics"),
      as(t.apiKey).get(`/v1/endpoints/${ep(ok)}`),
    ];
    for (const [i, res] of (await Promise.all(reads)).entries()) {
      expect(res.status, `read ${i}`).toBe(200);
      expect(res.text, `read ${i}`).not.toContain(secretValue);
    }
    const { Items = [] } = await stack.clients.ddb.send(
      new QueryCommand({
        TableName: stack.tables.events,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": t.tenantId },
      }),
    );
    expect(Items.length).toBeGreaterThanOrEqual(4);
    expect(
      JSON.stringify(Items, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString() : v)),
    ).not.toContain(secretValue);
    expect(Items.find((i) => i.sk === eventId)).not.toHaveProperty("body");
    expect(Items.find((i) => i.sk === eventId)).not.toHaveProperty("bodyCodec");
  });

  it("sends nothing of it again: a retry requeues nothing, and an erasure repeated keeps its time", async () => {
    const retry = await stack.http.post(`/v1/events/${eventId}/retry`).set("authorization", `Bearer ${t.apiKey}`);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ requeued: [], already_queued: [] });
    const first = (await as(t.apiKey).get(`/v1/events/${eventId}`)).body.payload_erased_at as string;
    const again = await as(stack.adminToken).del(`/admin/tenants/${t.tenantId}/events/${eventId}/payload`);
    expect(again.body).toMatchObject({ payload_erased_at: first, cancelled: [], excerpts_removed: 0 });
    expect(receiver.requests.filter((r) => r.url.endsWith("/failing"))).toHaveLength(1);
  });

  it("never wrote the payload to a log line", () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(secretValue);
  });
});
