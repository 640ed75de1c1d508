/**
 * The operational notifier itself, on the real store and queue: one tenant's flood of notices about one endpoint is
 * gathered into one event per window with its count (the first one going at once), other endpoints are not held
 * back, and a write that fails (DynamoDB cut off behind a proxy, as a throttled partition fails) is counted, logged,
 * kept and sent with the next try; flush sends what is gathered without waiting for the window.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients, type AwsClients } from "../../services/aws/clients.ts";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { getTenant } from "../../services/aws/tenants.ts";
import type { OperationalEvent, OperationalNotice } from "../../services/core/operational-events.ts";
import { operationalNotifier, type Notify } from "../../services/ingestion/operational-events.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { createMetrics, type Metrics } from "../../services/metrics.ts";
import { eventually } from "../support/eventually.ts";
import { captureLogs } from "../support/log-capture.ts";
import { startStack, type Stack } from "../support/stack.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

let stack: Stack;
let proxy: TcpProxy;
let proxied: AwsClients;
const { logger, lines } = captureLogs("info");

beforeAll(async () => {
  stack = await startStack();
  // An operator's subscription to everything: the system tenant and its endpoint exist, so notices are stored.
  const sub = await stack.http
    .post("/admin/operational-endpoints")
    .set("authorization", `Bearer ${stack.adminToken}`)
    .send({ url: "http://127.0.0.1:9/ops" });
  expect(sub.status).toBe(201);
  proxy = await startTcpProxy(stack.config.AWS_ENDPOINT_URL_DYNAMODB!);
  proxied = createAwsClients({
    region: stack.config.AWS_REGION,
    endpoints: { dynamodb: proxy.url, sqs: stack.config.AWS_ENDPOINT_URL_SQS },
    credentials: localCredentials,
  });
});
afterAll(async () => {
  proxied.destroy();
  await proxy.close();
  await stack.close();
});

/** A notifier writing through the proxy, as a worker's does through its own client. */
function notifier(windowMs: number, metrics: Metrics): Notify {
  return operationalNotifier({
    store: { ...stack.store, ddb: proxied.ddb },
    enqueue: (messages, attributes) => enqueueDeliveries(stack.queue, messages, "queue", () => attributes),
    now: Date.now,
    metrics,
    getTenant: (id) => getTenant(stack.stores.tenants, id),
    log: logger,
    windowMs,
  });
}

const exhausted = (endpointId: string, i: number): OperationalNotice => ({
  type: "delivery.exhausted",
  data: {
    tenant_id: "ten_01FLOODFLOODFLOODFLOODFLOOD",
    endpoint_id: endpointId,
    event_id: `evt_${i}`,
    attempts: 6,
    last_status_code: 400,
    last_error: "HTTP 400",
  },
});

/** The operational events stored about an endpoint, oldest first. */
async function stored(endpointId: string): Promise<OperationalEvent[]> {
  const admin = `Bearer ${stack.adminToken}`;
  const list = await stack.http.get("/admin/operational-events?limit=100").set("authorization", admin);
  const events = await Promise.all(
    (list.body.data as { event_id: string }[]).map(
      async (e) =>
        (await stack.http.get(`/admin/operational-events/${e.event_id}`).set("authorization", admin)).body
          .payload as OperationalEvent,
    ),
  );
  return events
    .filter((e) => "endpoint_id" in e.data && e.data.endpoint_id === endpointId)
    .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
}

describe("operational notices", () => {
  it("sends the first of a window at once and the rest as one event with their count; other endpoints are not held", async () => {
    const notify = notifier(3000, createMetrics("worker"));
    await notify(exhausted("ep_flood", 0));
    expect((await stored("ep_flood")).map((e) => e.count)).toEqual([1]);
    for (let i = 1; i < 10; i++) await notify(exhausted("ep_flood", i));
    await notify(exhausted("ep_quiet", 0));
    expect((await stored("ep_quiet")).map((e) => e.count)).toEqual([1]);
    expect((await stored("ep_flood")).map((e) => e.count)).toEqual([1]);

    const events = await eventually(
      async () => {
        const e = await stored("ep_flood");
        return e.length === 2 && e;
      },
      { what: "the window's event" },
    );
    expect(events.map((e) => e.count)).toEqual([1, 9]);
    // The last notice's data stands for the gathered ones; the first of them says since when.
    expect(events[1]!.data).toMatchObject({ event_id: "evt_9" });
    expect(Date.parse(events[1]!.first_occurred_at)).toBeGreaterThanOrEqual(Date.parse(events[0]!.occurred_at));
    expect(Date.parse(events[1]!.first_occurred_at)).toBeLessThan(Date.parse(events[1]!.occurred_at));
  });

  it("never drops one silently: a failed write is counted, logged, kept and sent with the next try", async () => {
    const metrics = createMetrics("worker");
    const notify = notifier(1000, metrics);
    await proxy.cut();
    try {
      // Emitting never fails its caller.
      await notify(exhausted("ep_throttled", 0));
      await notify(exhausted("ep_throttled", 1));
    } finally {
      await proxy.restore();
    }
    expect((await metrics.operationalNoticesFailed.get()).values).toEqual([
      { labels: { type: "delivery.exhausted" }, value: 1 },
    ]);
    expect(lines.join("\n")).toContain("operational event not emitted: kept, to be sent with the next try");
    const events = await eventually(
      async () => {
        const e = await stored("ep_throttled");
        return e.length === 1 && e;
      },
      { what: "the kept notices sent" },
    );
    expect(events.map((e) => e.count)).toEqual([2]);
    expect(events[0]!.data).toMatchObject({ event_id: "evt_1" });
  });

  it("flush sends what is gathered now, without waiting for the window", async () => {
    const notify = notifier(3_600_000, createMetrics("worker"));
    for (let i = 0; i < 3; i++) await notify(exhausted("ep_stopping", i));
    await notify.flush();
    expect((await stored("ep_stopping")).map((e) => e.count)).toEqual([1, 2]);
  });
});
