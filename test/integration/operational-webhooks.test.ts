/**
 * Operational webhooks, end to end: an operator subscribes a receiver with the admin API; an endpoint disabled by a
 * 410, a delivery exhausted, the endpoint re-enabled and the delivery recovered each reach it once, signed with the
 * subscription's secret (checked with the standardwebhooks and stripe packages); a dead operational delivery emits
 * nothing more; the system tenant is no tenant anyone can list, read or give a key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationalEventSchemas, type OperationalEvent } from "../../services/core/operational-events.ts";
import { systemTenantId } from "../../services/core/system-tenant.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually, stays } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";
import type { Worker } from "../../services/worker/start-worker.ts";

let stack: Stack;
let ops: TestReceiver;
let receiver: TestReceiver;
let opsSecret: string;
let opsEndpointId: string;
let worker: Worker;
const admin = () => `Bearer ${stack.adminToken}`;

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "100ms,100ms" });
  ops = await startReceiver();
  receiver = await startReceiver();
  const sub = await stack.http
    .post("/admin/operational-endpoints")
    .set("authorization", admin())
    .send({ url: ops.url, description: "on-call" });
  expect(sub.status).toBe(201);
  opsSecret = sub.body.secret as string;
  opsEndpointId = sub.body.endpoint_id as string;
  worker = stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await ops.close();
  await receiver.close();
});

/** What the operational receiver got, each verified with the subscription's secret and parsed by its schema. */
function received(): OperationalEvent[] {
  return ops.requests.map((req) => {
    verifyWithIndependentLibraries(req, opsSecret);
    const body = JSON.parse(req.body.toString()) as { type: keyof typeof operationalEventSchemas };
    return operationalEventSchemas[body.type].parse(body);
  });
}

describe("operational webhooks", () => {
  it("fire once for each of the four kinds, signed, with what happened", async () => {
    receiver.behave((_req, n) => (n === 1 ? { status: 410 } : { status: 200 }));
    const t = await stack.createTenant([{ url: receiver.url }]);
    const endpointId = t.endpoints[0]!.endpointId;
    const about = { tenant_id: t.tenantId, endpoint_id: endpointId };
    const eventId = (await postEvent(stack, t.apiKey, { type: "order.paid" })).body.event_id as string;

    // The 410 kills the delivery and disables the endpoint: two notices.
    await eventually(() => received().length === 2, { what: "endpoint.disabled and delivery.exhausted" });
    const of = (type: string) => received().find((e) => e.type === type);
    expect(of("endpoint.disabled")).toMatchObject({
      type: "endpoint.disabled",
      data: { ...about, reason: expect.stringMatching(/^the endpoint answered 410 Gone/), last_status_code: 410 },
    });
    expect(of("delivery.exhausted")).toMatchObject({
      type: "delivery.exhausted",
      data: {
        ...about,
        event_id: eventId,
        attempts: 1,
        last_status_code: 410,
        last_error: expect.stringContaining("410 Gone"),
      },
    });

    // Re-enabled by the tenant, then its dead delivery retried and delivered.
    const enabled = await stack.http
      .patch(`/v1/endpoints/${endpointId}`)
      .set("authorization", `Bearer ${t.apiKey}`)
      .send({ enabled: true });
    expect(enabled.body.enabled).toBe(true);
    await eventually(() => received().length === 3, { what: "endpoint.enabled" });
    const single = { occurred_at: expect.any(String), count: 1, first_occurred_at: expect.any(String) };
    expect(received()[2]).toEqual({ type: "endpoint.enabled", ...single, data: about });
    expect(
      (await stack.http.post(`/v1/events/${eventId}/retry`).set("authorization", `Bearer ${t.apiKey}`)).status,
    ).toBe(202);
    await eventually(() => received().length === 4, { what: "delivery.recovered" });
    expect(received()[3]).toEqual({
      type: "delivery.recovered",
      ...single,
      data: { ...about, event_id: eventId, recovered_from: "DEAD" },
    });
    expect((await getEvent(stack, t.apiKey, eventId)).status).toBe("DELIVERED");

    // Once each: nothing more comes (a second PATCH enabling an enabled endpoint announces nothing).
    await stack.http
      .patch(`/v1/endpoints/${endpointId}`)
      .set("authorization", `Bearer ${t.apiKey}`)
      .send({ enabled: true });
    await stays(() => ops.requests.length === 4, { forMs: 1000, what: "no further operational webhook" });
    expect(new Set(ops.requests.map((r) => r.headers["webhook-id"])).size).toBe(4);

    // They are events of the system tenant, with attempt logs, read through the operator's own routes.
    const listed = await stack.http.get("/admin/operational-events").set("authorization", admin());
    expect((listed.body.data as { type: string; status: string }[]).map((e) => `${e.type}:${e.status}`).sort()).toEqual(
      [
        "delivery.exhausted:DELIVERED",
        "delivery.recovered:DELIVERED",
        "endpoint.disabled:DELIVERED",
        "endpoint.enabled:DELIVERED",
      ],
    );
    const one = await stack.http
      .get(`/admin/operational-events/${(listed.body.data as { event_id: string }[])[0]!.event_id}`)
      .set("authorization", admin());
    expect(one.body.deliveries[0]).toMatchObject({
      endpoint_id: opsEndpointId,
      status: "DELIVERED",
      attempt_log: [expect.objectContaining({ status_code: 200 })],
    });
  });

  it("a dead operational delivery, or an operational endpoint disabled, emits no operational event of its own", async () => {
    const before = ops.requests.length;
    ops.behave(() => ({ status: 410 }));
    const t = await stack.createTenant([{ url: receiver.url }, { url: `${receiver.url}?second` }]);
    const path = `/v1/endpoints/${t.endpoints[0]!.endpointId}`;
    await stack.http.patch(path).set("authorization", `Bearer ${t.apiKey}`).send({ enabled: false });
    await stack.http.patch(path).set("authorization", `Bearer ${t.apiKey}`).send({ enabled: true });

    // The endpoint.enabled notice is POSTed once, answered 410: dead, and the subscription disabled.
    const opsEndpoint = () =>
      stack.http.get(`/admin/operational-endpoints/${opsEndpointId}`).set("authorization", admin());
    await eventually(async () => !(await opsEndpoint()).body.enabled, { what: "the operational endpoint disabled" });
    const events = async () =>
      (await stack.http.get("/admin/operational-events?limit=100").set("authorization", admin())).body.data as {
        event_id: string;
        status: string;
      }[];
    await eventually(async () => (await events()).some((e) => e.status === "DEAD"), {
      what: "the operational delivery dead",
    });
    await stays(async () => ops.requests.length === before + 1 && (await events()).length === 5, {
      forMs: 1500,
      what: "no operational event about the operational endpoint",
    });
    // It waits in the DLQ like any dead delivery.
    const dlq = await stack.http.get(`/admin/dlq?tenant_id=${systemTenantId}`).set("authorization", admin());
    expect(dlq.body.data).toHaveLength(1);
    // While it is disabled, a notice is recorded SKIPPED for it, not lost (about the other endpoint: the first one's
    // next endpoint.enabled would be gathered into its window, sent at the window's end).
    const second = `/v1/endpoints/${t.endpoints[1]!.endpointId}`;
    await stack.http.patch(second).set("authorization", `Bearer ${t.apiKey}`).send({ enabled: false });
    await stack.http.patch(second).set("authorization", `Bearer ${t.apiKey}`).send({ enabled: true });
    await eventually(async () => (await events()).some((e) => e.status === "SKIPPED"), { what: "a skipped notice" });
    expect(ops.requests.length).toBe(before + 1);
  });

  it("keeps the system tenant out of the tenant routes: not listed, not readable, no API key", async () => {
    const list = await stack.http.get("/admin/tenants?limit=100").set("authorization", admin());
    expect((list.body.data as { tenant_id: string }[]).map((t) => t.tenant_id)).not.toContain(systemTenantId);
    expectProblem(await stack.http.get(`/admin/tenants/${systemTenantId}`).set("authorization", admin()), 404);
    expectProblem(
      await stack.http.post(`/admin/tenants/${systemTenantId}/api-keys`).set("authorization", admin()),
      404,
    );
    expectProblem(
      await stack.http.get(`/admin/tenants/${systemTenantId}/endpoints`).set("authorization", admin()),
      404,
    );
  });

  it("gathers one tenant's flood: ten deliveries dying at once reach the operators as one event, not ten, and a stopping worker sends what it gathered", async () => {
    const refusing = await startReceiver();
    // The subscription the test above disabled, back on.
    ops.behave(() => ({ status: 200 }));
    await stack.http
      .patch(`/admin/operational-endpoints/${opsEndpointId}`)
      .set("authorization", admin())
      .send({ enabled: true });
    try {
      // A 400 is neutral for the breaker and disables nothing for days: each event dies on its own.
      refusing.behave(() => ({ status: 400, body: "no" }));
      const t = await stack.createTenant([{ url: refusing.url }]);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await postEvent(stack, t.apiKey, { type: "flood", i })).body.event_id);
      await eventually(
        async () =>
          (await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)))).every((e) => e.status === "DEAD"),
        { what: "the ten deliveries dead" },
      );
      const about = () =>
        ops.requests
          .map((r) => JSON.parse(r.body.toString()) as { data: { tenant_id: string } })
          .filter((e) => e.data.tenant_id === t.tenantId);
      await eventually(() => about().length >= 1, { what: "the first notice" });
      // The other nine are gathered into the window (a minute), sent at its end as one event with their count.
      await stays(() => about().length === 1, { forMs: 1500, what: "one operational event for the flood so far" });
      expect(received().find((e) => e.data.tenant_id === t.tenantId)).toMatchObject({
        type: "delivery.exhausted",
        count: 1,
      });
      // A worker stopping (a deploy, a scale-in) sends the nine gathered at once, not lost with its window.
      await worker.stop();
      stack.startWorker();
      await eventually(() => about().length === 2, { what: "the gathered notices sent on stop" });
      expect(received().filter((e) => e.data.tenant_id === t.tenantId)[1]).toMatchObject({
        type: "delivery.exhausted",
        count: 9,
      });
    } finally {
      await refusing.close();
    }
  });
});
