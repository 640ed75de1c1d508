/**
 * The event catalog against the real stores: types with versioned schemas, enforced or warned at ingestion,
 * `catalog_required`, hostile schemas refused at PUT (never a 500 at ingestion), and a change made through one API
 * process used at once by another (each with its caches on, as deployed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { expectProblem } from "../support/problem.ts";
import { startApiProcess, type ServiceProcess } from "../support/processes.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const orderPaid = {
  type: "object",
  required: ["type", "data"],
  properties: {
    type: { const: "order.paid" },
    data: {
      type: "object",
      required: ["order_id", "amount", "currency"],
      properties: {
        order_id: { type: "string", pattern: "^ord_[0-9A-Za-z]+$" },
        amount: { type: "integer", minimum: 0 },
        currency: { enum: ["EUR", "USD"] },
        paid_at: { type: "string", format: "date-time" },
      },
    },
  },
};
const good = { type: "order.paid", data: { order_id: "ord_1", amount: 4200, currency: "EUR" } };
const bad = { type: "order.paid", data: { order_id: "nope", amount: -1, currency: "EUR" } };

function as(apiKey: string) {
  const auth = (r: ReturnType<Stack["http"]["get"]>) => r.set("authorization", `Bearer ${apiKey}`);
  return {
    put: (name: string, body: unknown) => auth(stack.http.put(`/v1/event-types/${name}`)).send(body as object),
    get: (path: string) => auth(stack.http.get(path)),
    del: (name: string) => auth(stack.http.delete(`/v1/event-types/${name}`)),
    settings: (body: unknown) => auth(stack.http.patch("/v1/catalog")).send(body as object),
  };
}

describe("the catalog", () => {
  it("defines, versions, lists and deletes event types; earlier schemas stay readable", async () => {
    const t = await stack.createTenant([]);
    const api = as(t.apiKey);
    const created = await api.put("order.paid", {
      description: "An order was paid",
      schema: orderPaid,
      examples: [good],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: "order.paid", version: 1, validation: "enforce", examples: [good] });
    // The same schema with its keys in another order is the same version; a changed one is the next.
    const reordered = Object.fromEntries(Object.entries(orderPaid).reverse());
    expect((await api.put("order.paid", { schema: reordered })).body).toMatchObject({ version: 1 });
    const loose = { ...orderPaid, required: ["type"] };
    expect((await api.put("order.paid", { schema: loose, deprecated: true })).body).toMatchObject({
      version: 2,
      deprecated: true,
    });
    const versions = await api.get("/v1/event-types/order.paid/versions");
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body.data[1].schema).toEqual(orderPaid);
    await api.put("user.created", {});
    const list = await api.get("/v1/event-types");
    expect(list.body.data.map((e: { name: string }) => e.name)).toEqual(["order.paid", "user.created"]);
    expect((await api.del("user.created")).status).toBe(204);
    expectProblem(await api.get("/v1/event-types/user.created"), 404);
    expect((await api.get("/v1/event-types")).body.data).toHaveLength(1);
    // Another tenant sees none of it.
    const other = as((await stack.createTenant([])).apiKey);
    expectProblem(await other.get("/v1/event-types/order.paid"), 404);
    expectProblem(await api.put("openapi.json", {}), 422);
  });

  it("refuses a payload that does not conform (422, each error at its pointer) and records the version of one that does", async () => {
    const t = await stack.createTenant([{ url: receiver.url }]);
    await as(t.apiKey).put("order.paid", { schema: orderPaid });
    const refused = expectProblem(await postEvent(stack, t.apiKey, bad), 422);
    expect(refused.detail).toMatch(/version 1 of the order.paid schema/);
    expect(refused.errors).toEqual([{ path: "(body)", pointer: "/data/amount", message: "must be >= 0" }]);
    const missing = expectProblem(await postEvent(stack, t.apiKey, { type: "order.paid", data: {} }), 422);
    expect(missing.errors).toEqual([{ path: "(body)", pointer: "/data/order_id", message: "is required" }]);
    const accepted = await postEvent(stack, t.apiKey, good);
    expect(accepted.status).toBe(201);
    expect((await getEvent(stack, t.apiKey, accepted.body.event_id)).schema).toEqual({
      version: 1,
      valid: true,
      errors: [],
    });
    // Types without a schema, and types not in the catalog, go through unchecked.
    const other = await postEvent(stack, t.apiKey, { type: "order.refunded", anything: true });
    expect(other.status).toBe(201);
    expect((await getEvent(stack, t.apiKey, other.body.event_id)).schema).toBeNull();
  });

  it("accepts and marks a payload that does not conform when the type only warns, and counts it", async () => {
    const t = await stack.createTenant([{ url: receiver.url }]);
    await as(t.apiKey).put("order.paid", { schema: orderPaid, validation: "warn" });
    const before = (await stack.http.get("/metrics").set("authorization", `Bearer ${stack.adminToken}`)).text;
    const res = await postEvent(stack, t.apiKey, bad);
    expect(res.status).toBe(201);
    const event = await getEvent(stack, t.apiKey, res.body.event_id);
    expect(event.schema).toEqual({
      version: 1,
      valid: false,
      errors: [{ pointer: "/data/amount", message: "must be >= 0" }],
    });
    expect(event.deliveries).toHaveLength(1);
    const after = (await stack.http.get("/metrics").set("authorization", `Bearer ${stack.adminToken}`)).text;
    const count = (text: string) =>
      Number(/webhooks_events_schema_invalid_total\{mode="warn",service="api"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(count(after)).toBe(count(before) + 1);
  });

  it("refuses types not in the catalog, and untyped events, when the tenant requires the catalog", async () => {
    const t = await stack.createTenant([]);
    const api = as(t.apiKey);
    await api.put("order.paid", {});
    expect((await api.settings({ catalog_required: true })).body).toMatchObject({ catalog_required: true });
    expect((await postEvent(stack, t.apiKey, { type: "order.paid" })).status).toBe(201);
    const unknown = expectProblem(await postEvent(stack, t.apiKey, { type: "order.shipped" }), 422);
    expect(unknown.errors).toEqual([
      { path: "type", message: expect.stringMatching(/order.shipped is not in this tenant's catalog/) },
    ]);
    expectProblem(await postEvent(stack, t.apiKey, { hello: "world" }), 422);
    await api.settings({ catalog_required: false });
    expect((await postEvent(stack, t.apiKey, { type: "order.shipped" })).status).toBe(201);
  });
});

describe("hostile schemas", () => {
  it("are refused at PUT with a 422 naming where, and ingestion of a hostile payload never fails", async () => {
    const t = await stack.createTenant([]);
    const api = as(t.apiKey);
    const redos = expectProblem(await api.put("a.b", { schema: { type: "string", pattern: "^(a+)+$" } }), 422);
    expect(redos.errors).toEqual([
      { path: "schema", pointer: "/pattern", message: expect.stringMatching(/catastrophically/) },
    ]);
    const remote = expectProblem(await api.put("a.b", { schema: { $ref: "http://127.0.0.1:1/s.json" } }), 422);
    expect(remote.errors).toEqual([
      { path: "schema", pointer: "/$ref", message: expect.stringMatching(/within this schema/) },
    ]);
    const exponential = {
      $defs: { n: { anyOf: [{ type: "array", items: { $ref: "#/$defs/n" } }, { items: { $ref: "#/$defs/n" } }] } },
      $ref: "#/$defs/n",
    };
    expect(expectProblem(await api.put("a.b", { schema: exponential }), 422).errors).toEqual([
      { path: "schema", pointer: "/$defs/n", message: expect.stringMatching(/could cost/) },
    ]);
    const big = expectProblem(
      await api.put("a.b", { schema: { enum: Array.from({ length: 9000 }, (_, i) => `v-${i}`) } }),
      422,
    );
    expect(big.errors).toEqual([{ path: "schema", pointer: "", message: expect.stringMatching(/at most 65536/) }]);
    // Nesting is refused before anything parses the body.
    const deep = `{"schema":${'{"not":'.repeat(5000)}{}${"}".repeat(5000)}}`;
    expectProblem(await api.put("a.b", deep).set("content-type", "application/json"), 400);
    expectProblem(await api.put("a.b", { schema: { type: "object" }, colour: "red" }), 422);
    expect((await api.get("/v1/event-types")).body.data).toEqual([]);

    // The deepest payload allowed, against a recursive schema that is admitted.
    await api.put("a.b", {
      schema: {
        $defs: { n: { type: "array", items: { $ref: "#/$defs/n" } } },
        type: "object",
        properties: { n: { $ref: "#/$defs/n" } },
      },
    });
    const nested = `{"type":"a.b","n":${"[".repeat(62)}${"]".repeat(62)}}`;
    expect((await postEvent(stack, t.apiKey, nested)).status).toBe(201);
  });
});

describe("two API processes", () => {
  let a: ServiceProcess;
  let b: ServiceProcess;
  beforeAll(async () => {
    // Caches on, as deployed: a tenant read by a process is reused for a minute.
    [a, b] = await Promise.all([
      startApiProcess({ ...stack.env, AUTH_CACHE_TTL_MS: "60000" }),
      startApiProcess({ ...stack.env, AUTH_CACHE_TTL_MS: "60000" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.kill("SIGTERM"), b.kill("SIGTERM")]);
  });

  it("a schema changed through one is enforced by the other on the very next event", async () => {
    const t = await stack.createTenant([]);
    const call = (p: ServiceProcess, method: string, path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${p.port}${path}`, {
        method,
        headers: { authorization: `Bearer ${t.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    // B reads the type (no schema yet) and caches what it read.
    expect((await call(a, "PUT", "/v1/event-types/order.paid", {})).status).toBe(201);
    expect((await call(b, "POST", "/v1/events", bad)).status).toBe(201);
    // A schema set through A: B refuses the same payload at once.
    expect((await call(a, "PUT", "/v1/event-types/order.paid", { schema: orderPaid })).status).toBe(200);
    expect((await call(b, "POST", "/v1/events", bad)).status).toBe(422);
    expect((await call(b, "POST", "/v1/events", good)).status).toBe(201);
    // Relaxed to warn through A: B accepts it at once, marked.
    expect((await call(a, "PUT", "/v1/event-types/order.paid", { schema: orderPaid, validation: "warn" })).status).toBe(
      200,
    );
    const warned = await call(b, "POST", "/v1/events", bad);
    expect(warned.status).toBe(201);
    // Required through A: B refuses an unknown type at once.
    expect((await call(a, "PATCH", "/v1/catalog", { catalog_required: true })).status).toBe(200);
    expect((await call(b, "POST", "/v1/events", { type: "order.shipped" })).status).toBe(422);
    // Deleted through A: B refuses the type at once.
    expect(
      (
        await fetch(`http://127.0.0.1:${a.port}/v1/event-types/order.paid`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${t.apiKey}` },
        })
      ).status,
    ).toBe(204);
    expect((await call(b, "POST", "/v1/events", good)).status).toBe(422);
  });
});
