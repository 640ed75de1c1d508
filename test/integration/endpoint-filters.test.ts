/**
 * Content filters on endpoints, end to end: refused on write with the bad node's pointer, matched at fan-out beside
 * the event-type filter (no delivery for an endpoint whose filter does not match; the event names it), tried against
 * the newest events. And request bodies that carry a field no route knows: a 422 naming it, never a silent 201.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  stack.startWorker();
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const bigEuro = { data: { amount: { $gt: 100 }, currency: { $in: ["EUR", "USD"] } } };

describe("content filters", () => {
  it("deliver only what matches, beside the event-type filter, and the event names whom it was filtered from", async () => {
    const t = await stack.createTenant([]);
    const auth = `Bearer ${t.apiKey}`;
    const add = async (body: object) => {
      const res = await stack.http.post("/v1/endpoints").set("authorization", auth).send(body);
      expect(res.status, res.text).toBe(201);
      return res.body as { endpoint_id: string; filter: unknown };
    };
    const filtered = await add({ url: `${receiver.url}?big`, event_types: ["order.*"], filter: bigEuro });
    expect(filtered.filter).toEqual(bigEuro);
    const all = await add({ url: `${receiver.url}?all` });
    const big = await postEvent(stack, t.apiKey, { type: "order.paid", data: { amount: 4200, currency: "EUR" } });
    const small = await postEvent(stack, t.apiKey, { type: "order.paid", data: { amount: 5, currency: "EUR" } });
    const otherType = await postEvent(stack, t.apiKey, {
      type: "user.created",
      data: { amount: 4200, currency: "EUR" },
    });
    const endpointsOf = async (id: string) => {
      const e = await getEvent(stack, t.apiKey, id);
      return { to: e.deliveries.map((d) => d.endpoint_id).sort(), filtered: e.filtered_endpoints };
    };
    expect(await endpointsOf(big.body.event_id)).toEqual({
      to: [filtered.endpoint_id, all.endpoint_id].sort(),
      filtered: [],
    });
    expect(await endpointsOf(small.body.event_id)).toEqual({ to: [all.endpoint_id], filtered: [filtered.endpoint_id] });
    // Not of its types: not filtered from it, simply not for it.
    expect(await endpointsOf(otherType.body.event_id)).toEqual({ to: [all.endpoint_id], filtered: [] });
    await eventually(() => receiver.requests.filter((r) => r.url.endsWith("?big")).length === 1, {
      what: "one big delivery",
    });

    // Cleared with null: it gets everything of its types again.
    const cleared = await stack.http
      .patch(`/v1/endpoints/${filtered.endpoint_id}`)
      .set("authorization", auth)
      .send({ filter: null });
    expect(cleared.body.filter).toBeNull();
    const again = await postEvent(stack, t.apiKey, { type: "order.paid", data: { amount: 5, currency: "EUR" } });
    expect((await endpointsOf(again.body.event_id)).to).toContain(filtered.endpoint_id);
  });

  it("are refused on write with a 422 naming the bad node, and tried against the newest 20 events", async () => {
    const t = await stack.createTenant([]);
    const auth = `Bearer ${t.apiKey}`;
    const bad = await stack.http
      .post("/v1/endpoints")
      .set("authorization", auth)
      .send({ url: receiver.url, filter: { data: { amount: { $gtt: 100 } } } });
    expect(expectProblem(bad, 422).errors).toEqual([
      { path: "filter", pointer: "/data/amount/$gtt", message: expect.stringMatching(/unknown operator/) },
    ]);
    let deep: object = { a: 1 };
    for (let i = 0; i < 5; i++) deep = { a: deep };
    expect(
      expectProblem(
        await stack.http.post("/v1/endpoints").set("authorization", auth).send({ url: receiver.url, filter: deep }),
        422,
      ).errors,
    ).toEqual([{ path: "filter", pointer: "/a/a/a/a/a", message: "nests deeper than 5 levels" }]);

    for (const amount of [5, 500, 50])
      await postEvent(stack, t.apiKey, { type: "order.paid", data: { amount, currency: "EUR" } });
    await postEvent(stack, t.apiKey, { type: "user.created", data: { amount: 500, currency: "EUR" } });
    const tried = await stack.http
      .post("/v1/endpoints/test-filter")
      .set("authorization", auth)
      .send({ filter: bigEuro, event_types: ["order.*"] });
    expect(tried.status, tried.text).toBe(200);
    expect(tried.body.data.map((e: { type: string; matches: boolean }) => [e.type, e.matches])).toEqual([
      ["user.created", false],
      ["order.paid", false],
      ["order.paid", true],
      ["order.paid", false],
    ]);
  });
});

describe("unknown fields", () => {
  it("are refused by name on every body, where they were once silently dropped", async () => {
    const t = await stack.createTenant([{ url: receiver.url }]);
    const auth = `Bearer ${t.apiKey}`;
    // The misspelling that subscribed an endpoint to every event.
    const misspelled = await stack.http
      .post("/v1/endpoints")
      .set("authorization", auth)
      .send({ url: receiver.url, event_type: ["order.paid"] });
    expect(expectProblem(misspelled, 422).errors).toEqual([{ path: "event_type", message: "unknown field" }]);
    const nested = await stack.http
      .post("/admin/tenants")
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ name: "x", endpoints: [{ url: receiver.url, filters: {} }], plan: "pro" });
    expect(expectProblem(nested, 422).errors).toEqual([
      { path: "endpoints.0.filters", message: "unknown field" },
      { path: "plan", message: "unknown field" },
    ]);
    const endpoint = t.endpoints[0]!.endpointId;
    const event = (await postEvent(stack, t.apiKey, { type: "a" })).body.event_id as string;
    for (const [path, body] of [
      [`/v1/endpoints/${endpoint}/rotate-secret`, { grace: "1h" }],
      [`/v1/endpoints/${endpoint}/test`, { type: "x" }],
      [`/v1/endpoints/${endpoint}/recover`, { since: new Date().toISOString(), to: "x" }],
      [`/v1/events/${event}/retry`, { force: true }],
      ["/v1/portal-sessions", { readonly: true }],
      [`/admin/tenants/${t.tenantId}/api-keys`, { name: "ci" }],
      ["/admin/dlq/requeue", { max_messages: 1, tenant: "x" }],
    ] as const) {
      const token = path.startsWith("/admin") ? stack.adminToken : t.apiKey;
      const res = await stack.http.post(path).set("authorization", `Bearer ${token}`).send(body);
      expect([path, expectProblem(res, 422).errors]).toEqual([
        path,
        [{ path: Object.keys(body).at(-1), message: "unknown field" }],
      ]);
    }
    for (const [path, body] of [
      [`/v1/endpoints/${endpoint}`, { urll: "https://x.example" }],
      [`/admin/tenants/${t.tenantId}`, { nmae: "x" }],
      ["/v1/catalog", { catalog_required: true, strict: true }],
    ] as const) {
      const token = path.startsWith("/admin") ? stack.adminToken : t.apiKey;
      const res = await stack.http.patch(path).set("authorization", `Bearer ${token}`).send(body);
      expect([path, expectProblem(res, 422).errors]).toEqual([
        path,
        [{ path: Object.keys(body).at(-1), message: "unknown field" }],
      ]);
    }
  });
});
