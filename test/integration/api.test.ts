/** The HTTP contract: statuses, problem+json bodies, idempotency, tenant isolation, pagination. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueApiKey, revokeApiKey } from "../../services/aws/api-keys.ts";
import { newApiKey } from "../../services/core/ids.ts";
import { postEvent } from "../support/api.ts";
import { expectProblem } from "../support/problem.ts";
import { captureLogs } from "../support/log-capture.ts";
import { eventually } from "../support/eventually.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let a: CreatedTenant;
let b: CreatedTenant;
const { logger, lines: logLines } = captureLogs("debug");

beforeAll(async () => {
  stack = await startStack({ MAX_PAYLOAD_BYTES: "2048" }, { logger });
  // Endpoints on an unused loopback port: these tests need no worker.
  a = await stack.createTenant([{ url: "http://127.0.0.1:9/a" }]);
  b = await stack.createTenant([{ url: "http://127.0.0.1:9/b" }]);
});
afterAll(() => stack.close());

describe("POST /v1/events", () => {
  it("answers 201 with the event id and PENDING", async () => {
    const res = await postEvent(stack, a.apiKey, { type: "order.paid" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ event_id: expect.stringMatching(/^evt_[0-9A-Z]{26}$/), status: "PENDING" });
  });

  it("answers 401 alike for a missing, malformed, unknown or revoked key", async () => {
    const revoked = newApiKey();
    await issueApiKey(stack.stores.apiKeys, a.tenantId, Date.now(), revoked.apiKey);
    await revokeApiKey(stack.stores.apiKeys, a.tenantId, revoked.keyId, Date.now());
    const bodies = new Set<string>();
    for (const auth of [
      undefined,
      "Basic abc",
      "Bearer ",
      `Bearer ${newApiKey().apiKey}`,
      `Bearer ${revoked.apiKey}`,
      `Bearer ${stack.adminToken}`,
    ]) {
      const req = stack.http.post("/v1/events").set("content-type", "application/json");
      if (auth) req.set("authorization", auth);
      const res = await req.send("{}");
      bodies.add(JSON.stringify(expectProblem(res, 401)));
    }
    expect(bodies.size).toBe(1);
  });

  it("answers 400 for bad JSON, a non-object and invalid UTF-8", async () => {
    for (const body of ["{", "[1,2]", '"text"', "null", "42", ""]) {
      expectProblem(await postEvent(stack, a.apiKey, body), 400);
    }
    const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const res = await stack.http
      .post("/v1/events")
      .set("authorization", `Bearer ${a.apiKey}`)
      .set("content-type", "application/json")
      .serialize((x: unknown) => x as string)
      .send(invalidUtf8);
    expect(expectProblem(res, 400).detail).toBe("The body is not valid UTF-8.");
  });

  it("answers 413 over MAX_PAYLOAD_BYTES and 415 for other content types", async () => {
    expectProblem(await postEvent(stack, a.apiKey, { pad: "x".repeat(3000) }), 413);
    const res = await stack.http
      .post("/v1/events")
      .set("authorization", `Bearer ${a.apiKey}`)
      .set("content-type", "text/plain")
      .send("{}");
    expectProblem(res, 415);
    const none = await stack.http.post("/v1/events").set("authorization", `Bearer ${a.apiKey}`);
    expectProblem(none, 415);
  });

  it("answers 422 for an invalid Idempotency-Key", async () => {
    const problem = expectProblem(await postEvent(stack, a.apiKey, {}, { "idempotency-key": "x".repeat(300) }), 422);
    expect(problem.errors).toEqual([{ path: "(body)", message: expect.any(String) }]);
  });

  it("answers a repeat of an Idempotency-Key with the first event, and a different body with 409", async () => {
    const first = await postEvent(stack, a.apiKey, { type: "x", n: 1 }, { "idempotency-key": "order-17" });
    const again = await postEvent(stack, a.apiKey, { type: "x", n: 1 }, { "idempotency-key": "order-17" });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.event_id).toBe(first.body.event_id);
    expectProblem(await postEvent(stack, a.apiKey, { type: "x", n: 2 }, { "idempotency-key": "order-17" }), 409);
    // The same key is another tenant's own key space.
    const other = await postEvent(stack, b.apiKey, { type: "x", n: 2 }, { "idempotency-key": "order-17" });
    expect(other.status).toBe(201);
    expect(other.body.event_id).not.toBe(first.body.event_id);
  });
});

describe("reading events", () => {
  it("returns the event to its tenant and 404 to any other", async () => {
    const { body } = await postEvent(stack, a.apiKey, { type: "secret.thing" });
    const own = await stack.http.get(`/v1/events/${body.event_id}`).set("authorization", `Bearer ${a.apiKey}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      event_id: body.event_id,
      type: "secret.thing",
      payload: { type: "secret.thing" },
      status: "PENDING",
    });
    expect(own.body.deliveries).toEqual([
      expect.objectContaining({
        webhook_id: expect.stringMatching(/^msg_/),
        status: "PENDING",
        attempts: 0,
        attempt_log: [],
      }),
    ]);
    expectProblem(await stack.http.get(`/v1/events/${body.event_id}`).set("authorization", `Bearer ${b.apiKey}`), 404);
    expectProblem(
      await stack.http.post(`/v1/events/${body.event_id}/retry`).set("authorization", `Bearer ${b.apiKey}`),
      404,
    );
    expectProblem(await stack.http.get("/v1/events/evt_nope").set("authorization", `Bearer ${a.apiKey}`), 404);
  });

  it("lists newest first with a cursor, filters by status, and validates the query", async () => {
    const t = await stack.createTenant([{ url: "http://127.0.0.1:9/c" }]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await postEvent(stack, t.apiKey, { type: `n${i}` })).body.event_id);
    const auth = `Bearer ${t.apiKey}`;
    const page1 = await stack.http.get("/v1/events?limit=3").set("authorization", auth);
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((e: { event_id: string }) => e.event_id)).toEqual(ids.slice(2).reverse());
    const page2 = await stack.http
      .get(`/v1/events?limit=3&cursor=${page1.body.next_cursor}`)
      .set("authorization", auth);
    expect(page2.body.data.map((e: { event_id: string }) => e.event_id)).toEqual(ids.slice(0, 2).reverse());
    const pending = await stack.http.get("/v1/events?status=PENDING&limit=100").set("authorization", auth);
    expect(pending.body.data).toHaveLength(5);
    const delivered = await stack.http.get("/v1/events?status=DELIVERED").set("authorization", auth);
    expect(delivered.body).toEqual({ data: [], next_cursor: null });
    expectProblem(await stack.http.get("/v1/events?status=LOST").set("authorization", auth), 422);
    expectProblem(await stack.http.get("/v1/events?limit=1000").set("authorization", auth), 422);
    expectProblem(await stack.http.get("/v1/events?cursor=garbage").set("authorization", auth), 400);
  });

  it("accepts a retry of an event with nothing to retry (its delivery is still queued)", async () => {
    const { body } = await postEvent(stack, a.apiKey, { type: "r" });
    const res = await stack.http.post(`/v1/events/${body.event_id}/retry`).set("authorization", `Bearer ${a.apiKey}`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ event_id: body.event_id, requeued: [], already_queued: [a.endpoints[0]!.endpointId] });
  });
});

describe("/admin/tenants", () => {
  it("needs the admin token: 401 without, 403 with a tenant key", async () => {
    expectProblem(await stack.http.post("/admin/tenants").send({ name: "x" }), 401);
    expectProblem(
      await stack.http.post("/admin/tenants").set("authorization", "Bearer wrong-token").send({ name: "x" }),
      401,
    );
    expectProblem(
      await stack.http.post("/admin/tenants").set("authorization", `Bearer ${a.apiKey}`).send({ name: "x" }),
      403,
    );
  });

  it("creates a tenant with secrets shown once, and 422 names each invalid field", async () => {
    const admin = `Bearer ${stack.adminToken}`;
    const res = await stack.http
      .post("/admin/tenants")
      .set("authorization", admin)
      .send({ name: "Acme", endpoints: [{ url: "https://hooks.acme.test/in", event_types: ["order.*"] }] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      tenant_id: expect.stringMatching(/^ten_/),
      api_key: expect.stringMatching(/^whk_[0-9a-f]{12}_[A-Za-z0-9_-]{32}$/),
      endpoints: [
        {
          endpoint_id: expect.stringMatching(/^ep_/),
          event_types: ["order.*"],
          secret: expect.stringMatching(/^whsec_/),
        },
      ],
    });
    expect(Buffer.from(res.body.endpoints[0].secret.slice(6), "base64")).toHaveLength(32);
    const read = await stack.http.get(`/admin/tenants/${res.body.tenant_id}`).set("authorization", admin);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain("whsec_");
    expect(read.body.api_key).toBeUndefined();

    const bad = await stack.http
      .post("/admin/tenants")
      .set("authorization", admin)
      .send({
        name: "",
        endpoints: [
          { url: "ftp://x" },
          { url: "https://u:p@x.test/" },
          { url: "https://x.test", event_types: ["bad type"] },
        ],
      });
    const problem = expectProblem(bad, 422);
    expect((problem.errors as { path: string }[]).map((e) => e.path)).toEqual([
      "name",
      "endpoints.0.url",
      "endpoints.1.url",
      "endpoints.2.event_types.0",
    ]);
    expectProblem(
      await stack.http.get("/admin/tenants/ten_01ABCDEFGHJKMNPQRSTVWXYZ00").set("authorization", admin),
      404,
    );
    expectProblem(
      await stack.http.post("/admin/tenants").set("authorization", admin).set("content-type", "text/plain").send("x"),
      415,
    );
  });
});

describe("the rest", () => {
  it("answers health, readiness, and 404 problem for unknown routes", async () => {
    expect((await stack.http.get("/healthz")).body).toEqual({ status: "ok" });
    expect((await stack.http.get("/readyz")).body).toEqual({ status: "ready" });
    expectProblem(await stack.http.get("/v2/nothing"), 404);
    const res = await stack.http.get("/healthz");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes no request log line for health and readiness checks (the load balancer's come every 15 s per task)", async () => {
    const ids = await Promise.all(
      ["/healthz", "/readyz", "/v2/nothing"].map(
        async (path) => (await stack.http.get(path)).headers["x-request-id"] as string,
      ),
    );
    const logged = (id: string) => logLines.some((l) => (JSON.parse(l) as { req?: { id?: string } }).req?.id === id);
    await eventually(() => logged(ids[2]!), { what: "the 404's request log line" });
    expect([logged(ids[0]!), logged(ids[1]!)]).toEqual([false, false]);
  });

  it("serves Prometheus metrics to the admin token only, without tenant ids in labels", async () => {
    expectProblem(await stack.http.get("/metrics"), 401);
    const res = await stack.http.get("/metrics").set("authorization", `Bearer ${stack.adminToken}`);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^webhooks_events_accepted_total\{service="api"\} [1-9]\d*$/m);
    expect(res.text).not.toContain(a.tenantId);
  });

  it("never writes an API key, secret or the admin token to the log", () => {
    const all = logLines.join("\n");
    expect(logLines.length).toBeGreaterThan(10);
    for (const secret of [a.apiKey, b.apiKey, a.endpoints[0]!.secret, stack.adminToken])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/whsec_|Bearer /);
  });
});
