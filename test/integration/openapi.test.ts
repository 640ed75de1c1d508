/**
 * The OpenAPI document against the running app: it is valid OpenAPI 3.1, every route the app has is
 * documented and every documented operation exists, and real responses of every operation, driven through
 * a scenario, parse with the documented schema for their status (strict: an undocumented field fails).
 */
import { validate } from "@readme/openapi-parser";
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { operations, problemStatuses, type Operation } from "../../services/api/openapi.ts";
import { problemSchema } from "../../services/api/views.ts";
import { joinLane } from "../../services/aws/events/lanes.ts";
import { systemTenantId } from "../../services/core/system-tenant.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "100ms" });
  receiver = await startReceiver();
  stack.startWorker();
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** `get /v1/events/{eventId}` for every route of the app, mounted routers included. */
function appRoutes(app: Express): string[] {
  const walk = (stack: Layer[], prefix: string): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const path = `${prefix}${layer.route.path}`.replace(/\/$/, "") || "/";
        return Object.keys(layer.route.methods).map((m) => `${m} ${path.replace(/:(\w+)/g, "{$1}")}`);
      }
      const inner = layer.handle.stack;
      return inner
        ? walk(inner, typeof layer.rawPath === "string" && layer.rawPath !== "/" ? `${prefix}${layer.rawPath}` : prefix)
        : [];
    });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
}

/** Pages for people, not part of the API. */
const notApi = new Set(["get /docs", "get /docs/init.js", "get /portal"]);

describe("OpenAPI document", () => {
  it("is valid OpenAPI 3.1, served at /openapi.json", async () => {
    const res = await stack.http.get("/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string };
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it("documents exactly the routes the app has", () => {
    const routes = appRoutes(stack.app).filter((r) => !notApi.has(r));
    const documented = operations.map((op) => `${op.method} ${op.path}`);
    expect(new Set(routes).size).toBeGreaterThan(30);
    expect([...routes].sort()).toEqual([...documented].sort());
  });

  it("serves the docs page and its assets", async () => {
    const page = await stack.http.get("/docs");
    expect(page.status).toBe(200);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBe(3);
    for (const asset of assets) expect((await stack.http.get(asset)).status, asset).toBe(200);
  });
});

describe("every operation answers what the document says", () => {
  const covered = new Set<Operation>();

  function operationFor(method: string, path: string): Operation {
    const op = operations.find(
      (o) => o.method === method && new RegExp(`^${o.path.replace(/\{\w+\}/g, "[^/]+")}$`).test(path),
    );
    if (!op) throw new Error(`no documented operation for ${method} ${path}`);
    return op;
  }

  /** Calls the API and parses the answer with the documented schema for its status. */
  async function call(
    method: Operation["method"],
    url: string,
    opts: { body?: unknown; auth?: string; headers?: Record<string, string> } = {},
  ) {
    const path = url.split("?")[0]!;
    const op = operationFor(method, path);
    let req = stack.http[method](url);
    if (op.auth !== "none") req = req.set("authorization", `Bearer ${opts.auth ?? stack.adminToken}`);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req = req.set(k, v);
    const res = await (opts.body === undefined ? req : req.send(opts.body as object));
    let schema: z.ZodType | null | undefined = op.responses[res.status];
    if (schema === undefined && problemStatuses(op).includes(res.status)) schema = problemSchema;
    expect(schema, `${method} ${url} answered ${res.status}, which is not documented: ${res.text}`).toBeDefined();
    if (schema === null) expect(res.text).toBe("");
    else if (op.contentType === "text/plain") schema!.parse(res.text);
    else {
      const parsed = schema!.safeParse(res.body);
      expect(parsed.error, `${method} ${url} ${res.status}: ${res.text.slice(0, 500)}`).toBeUndefined();
    }
    if (res.status < 300) covered.add(op);
    return res.body as Record<string, unknown> & { data?: Record<string, string>[] };
  }

  // A long scenario (every operation, a delivery dying on its schedule): on a busy machine or moto it outlasts 30 s.
  it("covers every documented operation with a real response", async () => {
    for (const path of [
      "/healthz",
      "/readyz",
      "/openapi.json",
      "/metrics",
      "/admin/stats",
      "/admin/stats/history?window=day",
      "/admin/dlq",
    ])
      await call("get", path);

    const created = await call("post", "/admin/tenants", {
      body: { name: "docs", endpoints: [{ url: receiver.url }] },
    });
    const tenantId = created.tenant_id as string;
    const apiKey = created.api_key as string;
    const t = `/admin/tenants/${tenantId}`;
    await call("get", "/admin/tenants?limit=5");
    await call("get", t);
    await call("patch", t, { body: { name: "docs renamed" } });
    const key = await call("post", `${t}/api-keys`);
    await call("get", `${t}/api-keys`);
    await call("delete", `${t}/api-keys/${key.key_id as string}`);
    await call("post", `${t}/portal-sessions`, { body: { read_only: true } });
    const portal = await call("post", "/v1/portal-sessions", { auth: apiKey });
    expect((await call("get", "/v1/tenant", { auth: apiKey })).name).toBe("docs renamed");
    // A read-only session writing: the 403 it answers is documented too.
    const readOnly = /#token=(\S+)$/.exec(
      (await call("post", `${t}/portal-sessions`, { body: { read_only: true } })).url as string,
    )![1]!;
    await call("post", "/v1/endpoints", { auth: readOnly, body: { url: `${receiver.url}?ro` } });
    expect(portal.url).toMatch(/\/portal\/#token=wps_/);

    // An operator's subscription to operational events: re-enabling an endpoint below emits one.
    await call("post", "/admin/operational-endpoints", { body: { url: `${receiver.url}?ops` } });
    for (const [base, auth, owner] of [
      ["/v1/endpoints", apiKey, tenantId],
      [`${t}/endpoints`, stack.adminToken, tenantId],
      ["/admin/operational-endpoints", stack.adminToken, systemTenantId],
    ] as const) {
      const ep = await call("post", base, { auth, body: { url: `${receiver.url}?more`, event_types: ["docs.*"] } });
      const one = `${base}/${ep.endpoint_id as string}`;
      await call("get", base, { auth });
      await call("get", one, { auth });
      await call("patch", one, { auth, body: { enabled: false } });
      await call("patch", one, { auth, body: { enabled: true } });
      await call("post", `${one}/rotate-secret`, { auth });
      await call("get", `${one}/stats`, { auth });
      await call("get", `${one}/ordering-keys?limit=5`, { auth });
      // A key whose head's event is gone (as after its expiry): skip lets it go.
      const lane = { tenantId: owner, endpointId: ep.endpoint_id as string, orderingKey: "docs-key" };
      await joinLane(stack.store, lane, "evt_00000000000000000000000000", Date.now());
      await call("post", `${one}/ordering-keys/docs-key/skip`, { auth });
      await call("post", `${one}/ordering-keys/docs-key/skip`, { auth });
      await call("post", `${one}/test`, { auth });
      await call("post", `${base}/test-filter`, { auth, body: { filter: { type: { $startsWith: "docs." } } } });
      await call("post", `${one}/recover`, { auth, body: { since: new Date(Date.now() - 60_000).toISOString() } });
      await call("delete", one, { auth });
      await call("get", `${base}/ep_00000000000000000000000000`, { auth });
    }

    // The event catalog.
    const types = "/v1/event-types";
    const docsSent = {
      description: "Sent by the docs test",
      schema: { type: "object", properties: { type: { const: "docs.sent" } } },
      examples: [{ type: "docs.sent" }],
    };
    await call("put", `${types}/docs.sent`, { auth: apiKey, body: docsSent });
    await call("put", `${types}/docs.sent`, { auth: apiKey, body: { ...docsSent, schema: { type: "object" } } });
    await call("put", `${types}/docs.bad`, { auth: apiKey, body: { schema: { type: "string", pattern: "^(a+)+$" } } });
    await call("put", `${types}/docs.gone`, { auth: apiKey, body: {} });
    await call("delete", `${types}/docs.gone`, { auth: apiKey });
    await call("get", types, { auth: apiKey });
    await call("get", `${types}/docs.sent`, { auth: apiKey });
    await call("get", `${types}/docs.sent/versions`, { auth: apiKey });
    await call("get", `${types}/openapi.json`, { auth: apiKey });
    await call("get", "/v1/catalog", { auth: apiKey });
    await call("patch", "/v1/catalog", { auth: apiKey, body: { catalog_required: false } });

    receiver.behave(() => ({ status: 500, body: "down" }));
    const sent = await call("post", "/v1/events", {
      auth: apiKey,
      headers: { "idempotency-key": "docs-1" },
      body: { type: "docs.sent" },
    });
    await call("post", "/v1/events", {
      auth: apiKey,
      headers: { "idempotency-key": "docs-1" },
      body: { type: "docs.sent" },
    });
    const eventId = sent.event_id as string;
    await eventually(async () => (await call("get", `/v1/events/${eventId}`, { auth: apiKey })).status === "DEAD", {
      what: "the event dead",
    });
    receiver.behave(() => ({ status: 200 }));
    const operational = await eventually(
      async () => (await call("get", "/admin/operational-events")).data?.[0]?.event_id,
      { what: "an operational event" },
    );
    for (const [base, auth, id] of [
      ["/v1/events", apiKey, eventId],
      [`${t}/events`, stack.adminToken, eventId],
      ["/admin/operational-events", stack.adminToken, operational],
    ] as const) {
      await call("get", `${base}?status=DEAD&type=docs.sent`, { auth });
      const event = await call("get", `${base}/${id}`, { auth });
      const endpointId = (event.deliveries as { endpoint_id: string }[])[0]!.endpoint_id;
      await call("get", `${base}/${id}/deliveries/${endpointId}/attempts?limit=2`, { auth });
      await call("post", `${base}/${id}/retry`, { auth });
      await call("delete", `${base}/${id}/payload`, { auth });
    }
    await call("post", "/admin/dlq/requeue", { body: { max_messages: 10, dry_run: true } });
    await call("get", "/v1/audit?limit=5", { auth: apiKey });
    await call("get", `/admin/audit?tenant_id=${tenantId}&limit=5`);
    await call("post", "/admin/seal-secrets", { body: { limit: 5 } });
    await call("post", "/admin/seal-secrets", { body: { cursor: "not-a-cursor" } });
    // A few problems, checked against the Problem schema.
    await call("post", "/v1/events", { auth: "whk_nope", body: {} });
    await call("get", "/v1/events?limit=1000", { auth: apiKey });
    await call("get", `${t}/events`, { auth: apiKey });
    await call("delete", t);
    await call("post", `${t}/erase`, { body: { confirm: tenantId, limit: 1 } });
    await call("post", `${t}/erase`, { body: { confirm: tenantId, limit: 5000 } });

    const missing = operations.filter((op) => !covered.has(op)).map((op) => `${op.method} ${op.path}`);
    expect(missing).toEqual([]);
  }, 60_000);
});
