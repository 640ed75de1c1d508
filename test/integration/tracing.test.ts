/**
 * One event followed end to end. The API and the worker run as their own processes, as deployed (tracing started
 * by their instrument.ts), exporting to an in-process OTLP receiver on loopback. An event that fails once and then
 * succeeds gives one trace, continuing the client's traceparent: the ingestion, both attempts and the outcome; the
 * receiver got a valid traceparent naming each attempt's span; no exported text holds the payload or a secret.
 * A dead delivery requeued from the DLQ starts a trace of its own that links back to the one it died in. A caller
 * cannot make the platform trace: an unauthenticated request starts no span, a caller's sampled flag decides nothing
 * (an API sampling none exports none), and a caller's tracestate goes nowhere, least of all into operators' notices.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.ts";
import { startServiceProcess, type ServiceProcess } from "../support/processes.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let otlp: OtlpReceiver;
let api: ServiceProcess;
let worker: ServiceProcess;
let tenant: CreatedTenant;
const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const kind = { server: 2, client: 3, producer: 4, consumer: 5 };

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "1s" });
  receiver = await startReceiver();
  otlp = await startOtlpReceiver();
  tenant = await stack.createTenant([{ url: receiver.url }]);
  const env = { ...stack.env, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, SQS_WAIT_TIME_S: "1" };
  [api, worker] = await Promise.all([startServiceProcess("api", env), startServiceProcess("worker", env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([api.kill("SIGTERM"), worker.kill("SIGTERM")]);
  await Promise.all([stack.close(), receiver.close(), otlp.close()]);
});

const post = (apiKey: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${api.port}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const inTrace = (traceId: string) => otlp.spans.filter((s) => s.traceId === traceId);
const named = (spans: ReceivedSpan[], name: string) =>
  spans.filter((s) => s.name === name).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
const one = (spans: ReceivedSpan[], name: string) => {
  const found = named(spans, name);
  expect(
    found.map((s) => s.name),
    `one ${name}`,
  ).toEqual([name]);
  return found[0]!;
};

describe("tracing", () => {
  it("follows an event that fails once and then succeeds in one trace, from the client's span to the receiver", async () => {
    receiver.behave((_req, n) => (n === 1 ? { status: 503, body: "try later" } : { status: 200 }));
    const [clientTrace, clientSpan] = [hex(16), hex(8)];
    const marker = `card-${hex(8)}`;
    const res = await post(
      tenant.apiKey,
      { type: "order.paid", card: marker },
      { traceparent: `00-${clientTrace}-${clientSpan}-01` },
    );
    expect(res.status).toBe(201);
    const eventId = ((await res.json()) as { event_id: string }).event_id;
    await eventually(() => receiver.requests.length === 2, { what: "two attempts", timeoutMs: 20_000 });
    // The batch span processor sends every few seconds.
    const spans = await eventually(
      () => {
        const t = inTrace(clientTrace);
        return named(t, "record outcome").length === 2 && named(t, "POST /v1/events").length === 1 && t;
      },
      { what: "the trace exported", timeoutMs: 30_000 },
    );

    const server = one(spans, "POST /v1/events");
    expect(server).toMatchObject({ service: "webhooks-api", kind: kind.server, parentSpanId: clientSpan });
    expect(server.attributes).toMatchObject({
      "webhook.event_id": eventId,
      "webhook.tenant_id": tenant.tenantId,
      "http.response.status_code": 201,
    });
    for (const step of ["store event", "enqueue deliveries"])
      expect(one(spans, step).parentSpanId, step).toBe(server.spanId);
    // Spans start after authentication: there is no span of it.
    expect(named(spans, "authenticate")).toEqual([]);
    const enqueue = one(spans, "enqueue deliveries");
    expect(enqueue.kind).toBe(kind.producer);

    // Both attempts: each received message is a child of the enqueue, the retry too (the same message, later).
    const deliveries = named(spans, "deliver");
    expect(deliveries).toHaveLength(2);
    const ids = {
      "webhook.tenant_id": tenant.tenantId,
      "webhook.event_id": eventId,
      "webhook.endpoint_id": tenant.endpoints[0]!.endpointId,
    };
    expect(deliveries.map((d) => [d.service, d.kind, d.parentSpanId])).toEqual([
      ["webhooks-worker", kind.consumer, enqueue.spanId],
      ["webhooks-worker", kind.consumer, enqueue.spanId],
    ]);
    expect(deliveries.map((d) => d.attributes)).toEqual([
      expect.objectContaining({ ...ids, "webhook.attempt": 1, "webhook.outcome": "retry", "webhook.receive_count": 1 }),
      expect.objectContaining({
        ...ids,
        "webhook.attempt": 2,
        "webhook.outcome": "delivered",
        "webhook.receive_count": 2,
      }),
    ]);
    const posts = named(spans, "POST");
    expect(posts.map((p) => [p.kind, p.parentSpanId, p.attributes["http.response.status_code"], p.failed])).toEqual([
      [kind.client, deliveries[0]!.spanId, 503, true],
      [kind.client, deliveries[1]!.spanId, 200, false],
    ]);
    expect(posts.every((p) => typeof p.attributes["webhook.attempt.duration_ms"] === "number")).toBe(true);
    for (const [i, d] of deliveries.entries()) {
      expect(
        named(spans, "lease").filter((l) => l.parentSpanId === d.spanId),
        `lease ${i}`,
      ).toHaveLength(1);
      expect(
        named(spans, "record outcome")
          .filter((r) => r.parentSpanId === d.spanId)
          .map((r) => r.attributes["webhook.outcome"]),
      ).toEqual([d.attributes["webhook.outcome"]]);
    }

    // The receiver could join: a valid traceparent in this trace, its parent the POST span of that attempt.
    expect(receiver.requests.map((r) => r.headers.traceparent)).toEqual(
      posts.map((p) => `00-${clientTrace}-${p.spanId}-01`),
    );

    // Ids only: not the payload, not a secret, in any attribute, event, link or resource.
    const exported = otlp.spans.map((s) => s.allText).join("\n");
    expect(exported).toContain(eventId);
    for (const secret of [marker, tenant.apiKey, tenant.endpoints[0]!.secret, stack.adminToken])
      expect(exported).not.toContain(secret);
  });

  it("sends no traceparent to an endpoint that turned it off, and still traces the delivery", async () => {
    const quiet = await startReceiver();
    try {
      const t = await stack.createTenant([{ url: quiet.url }]);
      const patched = await stack.http
        .patch(`/admin/tenants/${t.tenantId}/endpoints/${t.endpoints[0]!.endpointId}`)
        .set("authorization", `Bearer ${stack.adminToken}`)
        .send({ send_traceparent: false });
      expect(patched.body.send_traceparent).toBe(false);
      const traceId = hex(16);
      expect((await post(t.apiKey, { type: "quiet" }, { traceparent: `00-${traceId}-${hex(8)}-01` })).status).toBe(201);
      await eventually(() => quiet.requests.length === 1, { what: "the delivery" });
      expect(quiet.requests[0]!.headers.traceparent).toBeUndefined();
      await eventually(() => named(inTrace(traceId), "POST").length === 1, { what: "its spans", timeoutMs: 30_000 });
    } finally {
      await quiet.close();
    }
  });

  it("links a delivery requeued from the DLQ to the trace it died in", async () => {
    const dying = await startReceiver();
    try {
      dying.behave(() => ({ status: 500 }));
      const t = await stack.createTenant([{ url: dying.url }]);
      const traceId = hex(16);
      expect((await post(t.apiKey, { type: "doomed" }, { traceparent: `00-${traceId}-${hex(8)}-01` })).status).toBe(
        201,
      );
      const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
      const dlqHolds = async () =>
        (
          (await (
            await fetch(`http://127.0.0.1:${api.port}/admin/dlq?tenant_id=${t.tenantId}`, { headers: admin })
          ).json()) as { data: unknown[] }
        ).data.length === 1;
      await eventually(dlqHolds, { what: "the delivery dead", timeoutMs: 20_000 });
      dying.behave(() => ({ status: 200 }));
      const requeued = await fetch(`http://127.0.0.1:${api.port}/admin/dlq/requeue`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ tenant_id: t.tenantId, max_messages: 10 }),
      });
      expect(((await requeued.json()) as { moved: number }).moved).toBe(1);
      await eventually(() => dying.requests.length === 3, { what: "the requeued attempt" });

      const requeue = await eventually(
        () => otlp.spans.find((s) => s.name === "dlq requeue delivery" && s.links.some((l) => l.traceId === traceId)),
        { what: "the requeue span", timeoutMs: 30_000 },
      );
      expect(requeue.traceId).not.toBe(traceId);
      expect(requeue.attributes["webhook.tenant_id"]).toBe(t.tenantId);
      const after = await eventually(
        () =>
          otlp.spans.find(
            (s) =>
              s.name === "deliver" &&
              s.parentSpanId === requeue.spanId &&
              s.attributes["webhook.outcome"] === "delivered",
          ),
        { what: "the delivery under the requeue", timeoutMs: 30_000 },
      );
      // The two attempts that died stayed in the first trace, the dead-letter outcome with them.
      expect(named(inTrace(traceId), "deliver").map((d) => d.attributes["webhook.outcome"])).toEqual(["retry", "dead"]);
      expect(requeue.links).toContainEqual(expect.objectContaining({ traceId }));
      expect(dying.requests[2]!.headers.traceparent).toMatch(new RegExp(`^00-${after.traceId}-[0-9a-f]{16}-01$`));
    } finally {
      await dying.close();
    }
  });

  it("starts no span before authentication, and carries no caller's tracestate to receivers or into operators' notices", async () => {
    const ops = await startReceiver();
    const failing = await startReceiver();
    try {
      const sub = await stack.http
        .post("/admin/operational-endpoints")
        .set("authorization", `Bearer ${stack.adminToken}`)
        .send({ url: ops.url, event_types: ["delivery.exhausted"] });
      expect(sub.status).toBe(201);
      failing.behave(() => ({ status: 500 }));
      const t = await stack.createTenant([{ url: failing.url }]);
      const [refused, accepted] = [hex(16), hex(16)];
      const guess = `whk_${hex(6)}_${hex(16)}`;
      expect((await post(guess, { type: "x" }, { traceparent: `00-${refused}-${hex(8)}-01` })).status).toBe(401);
      const res = await post(
        t.apiKey,
        { type: "doomed" },
        { traceparent: `00-${accepted}-${hex(8)}-01`, tracestate: "tenantvendor=opaque-tenant-state" },
      );
      expect(res.status).toBe(201);
      // Spans leave in the order they ended: once the later request's server span is here, the 401's would be too.
      await eventually(() => named(inTrace(accepted), "POST /v1/events").length === 1, {
        what: "the accepted request's span",
        timeoutMs: 30_000,
      });
      expect(inTrace(refused)).toEqual([]);

      // Both attempts went to the tenant's receiver in its trace, without its tracestate.
      await eventually(() => failing.requests.length === 2, { what: "both attempts", timeoutMs: 20_000 });
      for (const r of failing.requests) {
        expect(r.headers.traceparent).toMatch(new RegExp(`^00-${accepted}-`));
        expect(r.headers.tracestate).toBeUndefined();
      }
      // The operators' notice of its death is a trace of the platform's own, with nothing of the tenant's.
      const notice = await eventually(() => ops.requests[0], { what: "delivery.exhausted", timeoutMs: 20_000 });
      expect(JSON.parse(notice.body.toString())).toMatchObject({ type: "delivery.exhausted" });
      expect(notice.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(notice.headers.traceparent).not.toContain(accepted);
      expect(notice.headers.tracestate).toBeUndefined();
      const own = await eventually(
        () => otlp.spans.find((s) => s.name === "operational event" && s.links.some((l) => l.traceId === accepted)),
        { what: "the notice's own span, linked to the delivery", timeoutMs: 30_000 },
      );
      expect(own.traceId).not.toBe(accepted);
    } finally {
      await Promise.all([ops.close(), failing.close()]);
    }
  });

  it("lets no caller force sampling: an API sampling none exports nothing for a caller's sampled traceparent", async () => {
    const quiet = await startServiceProcess("api", {
      ...stack.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      OTEL_TRACES_SAMPLER_ARG: "0",
    });
    const r = await startReceiver();
    try {
      const t = await stack.createTenant([{ url: r.url }]);
      const [forced, refused] = [hex(16), hex(16)];
      const send = (key: string, traceId: string) =>
        fetch(`http://127.0.0.1:${quiet.port}/v1/events`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${key}`,
            "content-type": "application/json",
            traceparent: `00-${traceId}-${hex(8)}-01`,
          },
          body: JSON.stringify({ type: "forced" }),
        });
      expect((await send(t.apiKey, forced)).status).toBe(201);
      expect((await send(`whk_${hex(6)}_${hex(16)}`, refused)).status).toBe(401);
      // The decision (not sampled) travels with the delivery: the worker follows it, the receiver is told so.
      await eventually(() => r.requests.length === 1, { what: "the delivery" });
      expect(r.requests[0]!.headers.traceparent).toMatch(new RegExp(`^00-${forced}-[0-9a-f]{16}-00$`));
      // Stopping the API flushes what it would export.
      await quiet.kill("SIGTERM");
      expect([...inTrace(forced), ...inTrace(refused)].filter((s) => s.service === "webhooks-api")).toEqual([]);
    } finally {
      await quiet.kill("SIGTERM");
      await r.close();
    }
  });
});
