/**
 * A tenant's actions besides ingestion cost the platform work, so they are throttled per tenant, and each is
 * bounded: a retry sends a message only for a delivery that has none on the queue, and a recovery is a job of
 * at most a page of events per call that the caller continues with a cursor.
 */
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abandonDelivery } from "../../services/aws/events/delivery-ops.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  // Failed attempts wait an hour: a FAILED delivery stays parked on the queue for the whole file.
  stack = await startStack({ TENANT_ACTION_RATE_PER_S: "0.1", TENANT_ACTION_BURST: "6", RETRY_SCHEDULE: "1h" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

/** Messages on the delivery queue, whatever their state. */
async function queued(): Promise<number> {
  const { Attributes: q } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queue.queueUrl, AttributeNames: ["All"] }),
  );
  return (
    Number(q?.ApproximateNumberOfMessages) +
    Number(q?.ApproximateNumberOfMessagesNotVisible) +
    Number(q?.ApproximateNumberOfMessagesDelayed)
  );
}

describe("the tenant's rate limit on actions", () => {
  it("answers 429 with Retry-After past the burst, for that tenant's actions only", async () => {
    const t = await stack.createTenant([{ url: "http://127.0.0.1:9/a" }]);
    const other = await stack.createTenant([{ url: "http://127.0.0.1:9/b" }]);
    const rotate = (tenant: typeof t) =>
      stack.http
        .post(`/v1/endpoints/${tenant.endpoints[0]!.endpointId}/rotate-secret`)
        .set("authorization", `Bearer ${tenant.apiKey}`);
    for (let i = 0; i < 6; i++) expect((await rotate(t)).status).toBe(201);
    const limited = await rotate(t);
    expect(expectProblem(limited, 429).detail).toMatch(
      /^This tenant's rate limit on actions is reached; retry in \d+ s\.$/,
    );
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // Every action shares the bucket: an endpoint write too.
    expectProblem(
      await stack.http
        .post("/v1/endpoints")
        .set("authorization", `Bearer ${t.apiKey}`)
        .send({ url: "http://127.0.0.1:9/c" }),
      429,
    );
    // Not another tenant, not ingestion, not an operator acting for the tenant.
    expect((await rotate(other)).status).toBe(201);
    expect((await postEvent(stack, t.apiKey, { type: "still.accepted" })).status).toBe(201);
    const admin = `/admin/tenants/${t.tenantId}/endpoints/${t.endpoints[0]!.endpointId}/rotate-secret`;
    expect((await stack.http.post(admin).set("authorization", `Bearer ${stack.adminToken}`)).status).toBe(201);
  });
});

describe("retry", () => {
  it("requeues dead deliveries only; one still waiting on the queue is left alone and reported as already queued", async () => {
    receiver.behave((req) => (req.url.endsWith("gone") ? { status: 410 } : { status: 500 }));
    const t = await stack.createTenant([{ url: `${receiver.url}?failing` }, { url: `${receiver.url}?gone` }]);
    const [failing, gone] = t.endpoints.map((e) => e.endpointId) as [string, string];
    const worker = stack.startWorker();
    const { body } = await postEvent(stack, t.apiKey, { type: "retry.me" });
    const eventId = body.event_id as string;
    await eventually(
      async () => {
        const e = await getEvent(stack, t.apiKey, eventId);
        return (
          e.deliveries
            .map((d) => `${d.endpoint_id}:${d.status}`)
            .sort()
            .join() === [`${failing}:FAILED`, `${gone}:DEAD`].sort().join()
        );
      },
      { what: "one delivery failed (parked for an hour), the other dead" },
    );
    await worker.stop();
    // The failing delivery's message is parked there (with any other test's).
    const before = await queued();

    const retry = () => stack.http.post(`/v1/events/${eventId}/retry`).set("authorization", `Bearer ${t.apiKey}`);
    const first = await retry();
    expect(first.status).toBe(202);
    // One new message, for the dead delivery; the parked one was not doubled.
    expect(await queued()).toBe(before + 1);
    expect(first.body).toEqual({ event_id: eventId, requeued: [gone], already_queued: [failing] });
    // Again: both are waiting now, so nothing is sent.
    const second = await retry();
    expect(second.body).toEqual({
      event_id: eventId,
      requeued: [],
      already_queued: expect.arrayContaining([failing, gone]),
    });
    expect(second.body.already_queued).toHaveLength(2);
    expect(await queued()).toBe(before + 1);
  });
});

describe("recover", () => {
  it("is a bounded job: a page of dead events per call, a cursor to go on, a dry run, a time range", async () => {
    const t = await stack.createTenant([{ url: "http://127.0.0.1:9/recover" }]);
    const endpointId = t.endpoints[0]!.endpointId;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const eventId = (await postEvent(stack, t.apiKey, { type: "dead", i })).body.event_id as string;
      // Settled DEAD without a POST (no worker runs here): as a delivery whose tenant or endpoint went away is.
      await abandonDelivery(stack.store, { tenantId: t.tenantId, eventId, endpointId }, Date.now(), "for the test");
      ids.push(eventId);
    }
    const createdAt = async (id: string) =>
      (await stack.http.get(`/v1/events/${id}`).set("authorization", `Bearer ${t.apiKey}`)).body.created_at as string;
    const since = await createdAt(ids[0]!);
    const recover = (body: Record<string, unknown>) =>
      stack.http
        .post(`/v1/endpoints/${endpointId}/recover`)
        .set("authorization", `Bearer ${t.apiKey}`)
        .send({ since, ...body });

    const dry = await recover({ dry_run: true, limit: 2 });
    expect(dry.status).toBe(202);
    expect(dry.body).toEqual({
      endpoint_id: endpointId,
      dry_run: true,
      examined: 2,
      would_requeue: 2,
      next_cursor: expect.any(String),
    });
    expect((await getEvent(stack, t.apiKey, ids[0]!)).status).toBe("DEAD");

    // Up to when the fourth delivery died, two events at a time.
    const until = (await getEvent(stack, t.apiKey, ids[3]!)).deliveries[0]!.dead_at!;
    const page1 = await recover({ limit: 2, until });
    expect(page1.body).toMatchObject({ dry_run: false, examined: 2, requeued: 2, next_cursor: expect.any(String) });
    const page2 = await recover({ limit: 2, until, cursor: page1.body.next_cursor });
    expect(page2.body).toMatchObject({ examined: 2, requeued: 2 });
    const page3 = await recover({ limit: 2, until, cursor: page2.body.next_cursor });
    expect(page3.body).toMatchObject({ requeued: 0, next_cursor: null });
    const statuses = await Promise.all(ids.map(async (id) => (await getEvent(stack, t.apiKey, id)).status));
    expect(statuses).toEqual(["PENDING", "PENDING", "PENDING", "PENDING", "DEAD"]);

    expectProblem(await recover({ limit: 101 }), 422);
    expectProblem(await recover({ cursor: "not-ours" }), 400);
  });
});
