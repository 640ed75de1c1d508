/**
 * Nothing lost while an endpoint is disabled: its deliveries are recorded SKIPPED (no message, no attempt) and a
 * recover brings them back with what died; recover selects by when a delivery died or was skipped, counts first in a
 * dry run, and requeues the same deliveries it counted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptEvent } from "../../services/ingestion/accept-event.ts";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { abandonDelivery } from "../../services/aws/events/delivery-ops.ts";
import { getTenant } from "../../services/aws/tenants.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually, stays } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { logger, startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  // An hour between attempts: recover's window of candidate events (the schedule's span) reaches hours back.
  stack = await startStack({ RETRY_SCHEDULE: "1h" });
  receiver = await startReceiver();
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

describe("an endpoint disabled for a while", () => {
  it("has its deliveries recorded SKIPPED, findable by status, and recovered once each when it is back", async () => {
    const t = await stack.createTenant([{ url: `${receiver.url}?off` }, { url: `${receiver.url}?on` }]);
    const [off] = t.endpoints.map((e) => e.endpointId) as [string, string];
    const auth = `Bearer ${t.apiKey}`;
    const endpoint = `/v1/endpoints/${off}`;
    expect((await stack.http.patch(endpoint).set("authorization", auth).send({ enabled: false })).body.enabled).toBe(
      false,
    );
    const disabledAt = new Date().toISOString();

    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await postEvent(stack, t.apiKey, { type: "while.off", i })).body.event_id as string);
    // The other endpoint gets them; the disabled one has each recorded, with no attempt and nothing sent.
    await eventually(
      async () =>
        (await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)))).every((e) => e.status === "SKIPPED"),
      { what: "the events settled SKIPPED" },
    );
    const events = await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)));
    for (const e of events) {
      expect(e.deliveries.find((d) => d.endpoint_id === off)).toMatchObject({
        status: "SKIPPED",
        attempts: 0,
        attempt_log: [],
        skipped_at: expect.any(String),
      });
    }
    await stays(() => receiver.requests.every((r) => r.url.endsWith("?on")), {
      forMs: 500,
      what: "nothing POSTed to the disabled endpoint",
    });
    const listed = await stack.http.get("/v1/events?status=SKIPPED").set("authorization", auth);
    expect((listed.body.data as { event_id: string }[]).map((e) => e.event_id).sort()).toEqual([...ids].sort());

    // Re-enabling sends nothing by itself; a dry run counts what a recover would send, then the recover sends it.
    expect((await stack.http.patch(endpoint).set("authorization", auth).send({ enabled: true })).body.enabled).toBe(
      true,
    );
    const recover = (dryRun: boolean) =>
      stack.http.post(`${endpoint}/recover`).set("authorization", auth).send({ since: disabledAt, dry_run: dryRun });
    expect((await recover(true)).body).toEqual({
      endpoint_id: off,
      dry_run: true,
      examined: 3,
      would_requeue: 3,
      next_cursor: null,
    });
    await stays(() => receiver.requests.every((r) => r.url.endsWith("?on")), {
      forMs: 300,
      what: "nothing sent by a dry run",
    });
    expect((await recover(false)).body).toEqual({
      endpoint_id: off,
      dry_run: false,
      examined: 3,
      requeued: 3,
      next_cursor: null,
    });

    const sent = () => receiver.requests.filter((r) => r.url.endsWith("?off"));
    await eventually(() => sent().length === 3, { what: "the three skipped deliveries POSTed" });
    await stays(() => sent().length === 3, { forMs: 1000, what: "each sent once" });
    const webhookIds = events.map((e) => e.deliveries.find((d) => d.endpoint_id === off)!.webhook_id);
    expect(
      sent()
        .map((r) => r.headers["webhook-id"])
        .sort(),
    ).toEqual(webhookIds.sort());
    expect(
      sent()
        .map((r) => (JSON.parse(r.body.toString()) as { i: number }).i)
        .sort(),
    ).toEqual([0, 1, 2]);
    await eventually(
      async () =>
        (await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)))).every((e) => e.status === "DELIVERED"),
      { what: "all delivered" },
    );
    // Nothing left to recover.
    expect((await recover(false)).body).toMatchObject({ requeued: 0, next_cursor: null });
  });
});

describe("recover by time range", () => {
  it("selects deliveries by when they died or were skipped, not when their events were created, with a dry run first", async () => {
    // The endpoint answers nothing (a closed port): no worker attempt can settle what this test arranges.
    const t = await stack.createTenant([{ url: "http://127.0.0.1:9/range" }]);
    const endpointId = t.endpoints[0]!.endpointId;
    const t0 = Date.now();
    const minute = (n: number) => t0 + n * 60_000;
    // Created now, settled DEAD at minutes 10, 20 and 30 (without a POST: as a delivery of a deleted endpoint is).
    const dead: string[] = [];
    for (const at of [minute(10), minute(20), minute(30)]) {
      const eventId = (await postEvent(stack, t.apiKey, { type: "range.dead" })).body.event_id as string;
      // After the worker's one attempt (then FAILED for an hour), so that nothing writes the event beside this: moto
      // checks a condition and writes in separate steps, and a worker's write racing this one could undo it there.
      await eventually(async () => (await getEvent(stack, t.apiKey, eventId)).deliveries[0]?.status === "FAILED", {
        what: "the first attempt failed",
      });
      await abandonDelivery(stack.store, { tenantId: t.tenantId, eventId, endpointId }, at, "for the test");
      dead.push(eventId);
    }
    // And one skipped at minute 20: accepted then, while the endpoint was disabled.
    await stack.http
      .patch(`/v1/endpoints/${endpointId}`)
      .set("authorization", `Bearer ${t.apiKey}`)
      .send({ enabled: false });
    const tenant = (await getTenant(stack.stores.tenants, t.tenantId))!;
    const skipped = await acceptEvent(
      {
        store: stack.store,
        enqueue: (m) => enqueueDeliveries(stack.queue, m),
        now: () => minute(20),
        metrics: stack.workerMetrics,
      },
      { tenant, body: Buffer.from('{"type":"range.skipped"}'), parsed: { type: "range.skipped" }, log: logger },
    );
    expect(skipped.status).toBe("SKIPPED");

    const recover = (body: Record<string, unknown>) =>
      stack.http
        .post(`/v1/endpoints/${endpointId}/recover`)
        .set("authorization", `Bearer ${t.apiKey}`)
        .send({ since: new Date(minute(15)).toISOString(), until: new Date(minute(25)).toISOString(), ...body });
    const dry = await recover({ dry_run: true });
    expect(dry.body).toEqual({
      endpoint_id: endpointId,
      dry_run: true,
      examined: 4,
      would_requeue: 2,
      next_cursor: null,
    });
    const statuses = async () =>
      Promise.all(
        [...dead, skipped.eventId].map(async (id) => (await getEvent(stack, t.apiKey, id)).deliveries[0]!.status),
      );
    expect(await statuses()).toEqual(["DEAD", "DEAD", "DEAD", "SKIPPED"]);

    // While the endpoint is disabled its deliveries would only be skipped again: enable it first.
    const refused = await recover({});
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe("The endpoint is disabled: enable it, then recover.");
    await stack.http
      .patch(`/v1/endpoints/${endpointId}`)
      .set("authorization", `Bearer ${t.apiKey}`)
      .send({ enabled: true });
    const done = await recover({});
    expect(done.body).toEqual({ endpoint_id: endpointId, dry_run: false, examined: 4, requeued: 2, next_cursor: null });
    // The one that died at minute 20 and the one skipped then; not those that died before or after the range.
    expect((await statuses()).map((s) => (s === "FAILED" ? "PENDING" : s))).toEqual([
      "DEAD",
      "PENDING",
      "DEAD",
      "PENDING",
    ]);
  });
});

describe("recover's range", () => {
  it("refuses an until before since with 422, however far before", async () => {
    const t = await stack.createTenant([{ url: "http://127.0.0.1:9/backwards" }]);
    const since = Date.now();
    for (const before of [60_000, 30 * 86_400_000]) {
      const res = await stack.http
        .post(`/v1/endpoints/${t.endpoints[0]!.endpointId}/recover`)
        .set("authorization", `Bearer ${t.apiKey}`)
        .send({ since: new Date(since).toISOString(), until: new Date(since - before).toISOString() });
      expect(expectProblem(res, 422).errors).toEqual([{ path: "until", message: "must not be before since" }]);
    }
  });
});
