/**
 * What the portal shows of one endpoint: its health from the workers' figures (attempts, success rate, latency,
 * per hour over a day), a test event sent to it alone whatever its filter, and events filtered by type.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let t: CreatedTenant;

beforeAll(async () => {
  // Failed attempts wait an hour: each event makes exactly one attempt here.
  stack = await startStack({ RETRY_SCHEDULE: "1h" });
  receiver = await startReceiver();
  receiver.behave((req) => (req.body.toString().includes('"fail"') ? { status: 500 } : { status: 200, delayMs: 20 }));
  t = await stack.createTenant([
    { url: `${receiver.url}?orders`, event_types: ["order.*"] },
    { url: `${receiver.url}?other`, event_types: ["other.*"] },
  ]);
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const auth = () => `Bearer ${t.apiKey}`;

describe("endpoint health", () => {
  it("counts attempts, failures and their latency over the last hour and day, and per hour", async () => {
    const [orders, other] = t.endpoints.map((e) => e.endpointId) as [string, string];
    for (const body of [
      { type: "order.paid" },
      { type: "order.paid" },
      { type: "order.paid" },
      { type: "order.paid", fail: true },
      { type: "order.paid", fail: true },
    ]) {
      await postEvent(stack, t.apiKey, body);
    }
    const stats = (id: string) => stack.http.get(`/v1/endpoints/${id}/stats`).set("authorization", auth());
    const seen = await eventually(
      async () => {
        const body = (await stats(orders)).body as { last_hour: { attempts: number } };
        return body.last_hour.attempts === 5 ? body : undefined;
      },
      { what: "five attempts in the figures" },
    );
    const window = {
      attempts: 5,
      delivered: 3,
      failed: 2,
      success_rate: 0.6,
      latency_p50_ms: expect.any(Number),
      latency_p95_ms: expect.any(Number),
    };
    expect(seen).toMatchObject({ endpoint_id: orders, last_hour: window, last_day: window });
    const { hours, last_hour: hour } = seen as unknown as {
      hours: { at: string; delivered: number; failed: number }[];
      last_hour: { latency_p50_ms: number };
    };
    // The receiver took 20 ms or more to answer the successes.
    expect(hour.latency_p50_ms).toBeGreaterThanOrEqual(10);
    expect(hours).toHaveLength(24);
    // All in the last hour or two of the chart (the current hour, unless the test ran across an hour's turn).
    expect(Date.parse(hours.at(-1)!.at)).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - Date.parse(hours.at(-1)!.at)).toBeLessThan(3_600_000);
    expect(
      hours.slice(-2).reduce((n, h) => ({ delivered: n.delivered + h.delivered, failed: n.failed + h.failed }), {
        delivered: 0,
        failed: 0,
      }),
    ).toEqual({ delivered: 3, failed: 2 });
    expect(hours.slice(0, -2).every((h) => h.delivered === 0 && h.failed === 0)).toBe(true);
    // Another endpoint's figures are its own.
    expect((await stats(other)).body.last_day).toEqual({
      attempts: 0,
      delivered: 0,
      failed: 0,
      success_rate: null,
      latency_p50_ms: null,
      latency_p95_ms: null,
    });
  });

  it("sends a test event to one endpoint only, whatever its filter, and lists events by type", async () => {
    const other = t.endpoints[1]!.endpointId;
    const sent = await stack.http.post(`/v1/endpoints/${other}/test`).set("authorization", auth());
    expect(sent.status).toBe(202);
    const eventId = sent.body.event_id as string;
    const event = await eventually(
      async () => {
        const e = await getEvent(stack, t.apiKey, eventId);
        return e.status === "DELIVERED" ? e : undefined;
      },
      { what: "the test event delivered" },
    );
    expect(event.payload).toEqual({
      type: "webhook.test",
      occurred_at: expect.any(String),
      data: { endpoint_id: other },
    });
    expect(event.deliveries).toEqual([
      expect.objectContaining({
        endpoint_id: other,
        attempts: 1,
        attempt_log: [expect.objectContaining({ status_code: 200 })],
      }),
    ]);
    expect(receiver.requests.filter((r) => r.body.toString().includes("webhook.test")).map((r) => r.url)).toEqual([
      "/hook?other",
    ]);

    const byType = await stack.http.get("/v1/events?type=webhook.test").set("authorization", auth());
    expect((byType.body.data as { event_id: string }[]).map((e) => e.event_id)).toEqual([eventId]);
    const none = await stack.http.get("/v1/events?type=order.refunded").set("authorization", auth());
    expect(none.body.data).toEqual([]);
  });
});
