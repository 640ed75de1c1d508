/** Abuse limits: per-tenant rate limit, nesting depth, security headers, slow clients cut off, a cached /readyz. */
import { connect } from "node:net";
import supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../services/api/create-app.ts";
import { parseConfig } from "../../services/config.ts";
import { createMetrics } from "../../services/metrics.ts";
import { apiSettings } from "../../services/runtime.ts";
import { postEvent } from "../support/api.ts";
import { expectProblem } from "../support/problem.ts";
import { startApiProcess, type ServiceProcess } from "../support/processes.ts";
import { logger, startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let a: CreatedTenant;
let b: CreatedTenant;

beforeAll(async () => {
  // One token every 10 s: the burst of 3 cannot refill between requests, however slow the backend is.
  stack = await startStack({
    INGEST_RATE_PER_S: "0.1",
    INGEST_BURST: "3",
    MAX_JSON_DEPTH: "8",
    AUTH_FAILURE_LIMIT: "5",
    // As deployed: behind the ALB (the CDK stack sets it; the default is no proxy).
    TRUST_PROXY_HOPS: "1",
  });
  a = await stack.createTenant([]);
  b = await stack.createTenant([]);
});
afterAll(() => stack.close());

const nested = (depth: number) => `{"a":${"[".repeat(depth - 1)}"x"${"]".repeat(depth - 1)}}`;

describe("abuse limits", () => {
  it("limits each tenant's ingestion rate with 429 and Retry-After, without touching other tenants", async () => {
    for (let i = 0; i < 3; i++) expect((await postEvent(stack, a.apiKey, { i })).status).toBe(201);
    const limited = await postEvent(stack, a.apiKey, { i: 3 });
    expectProblem(limited, 429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(10);
    expect((await postEvent(stack, b.apiKey, { i: 0 })).status).toBe(201);
  });

  it("refuses JSON nested deeper than MAX_JSON_DEPTH before parsing it", async () => {
    const c = await stack.createTenant([]);
    expect((await postEvent(stack, c.apiKey, nested(8))).status).toBe(201);
    const deep = await postEvent(stack, c.apiKey, nested(9));
    expect(expectProblem(deep, 400).detail).toBe("The body nests deeper than 8 levels.");
    // Brackets inside strings are text, not nesting.
    expect((await postEvent(stack, c.apiKey, { s: "[[[[[[[[[[[[[[[[[[[[" })).status).toBe(201);
  });

  it("sends helmet's security headers", async () => {
    const res = await stack.http.get("/healthz");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-frame-options"]).toBe("SAMEORIGIN");
    expect(res.headers["x-powered-by"]).toBeUndefined();
  });
});

describe("failed authentications", () => {
  // Requests arrive as through the load balancer: it appends the address it saw to X-Forwarded-For.
  const from = (address: string, spoofed?: string) => ({
    "x-forwarded-for": spoofed ? `${spoofed}, ${address}` : address,
  });
  const guess = (n: number) => `whk_${n.toString(16).padStart(12, "0")}_${"g".repeat(32)}`;

  it("answers 429 with Retry-After once an address has failed AUTH_FAILURE_LIMIT times, before any lookup; other addresses go on", async () => {
    for (let i = 0; i < 5; i++) expectProblem(await postEvent(stack, guess(i), { i }, from("198.51.100.7")), 401);
    const limited = await postEvent(stack, guess(5), { i: 5 }, from("198.51.100.7"));
    expect(expectProblem(limited, 429).detail).toMatch(
      /^This address's limit of failed authentications is reached; retry in \d+ s\.$/,
    );
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // The admin API shares the budget: a wrong admin token from that address is refused unchecked too.
    expectProblem(
      await stack.http
        .get("/admin/stats")
        .set("authorization", "Bearer not-the-admin-token-at-all")
        .set(from("198.51.100.7")),
      429,
    );
    const c = await stack.createTenant([]);
    expect((await postEvent(stack, c.apiKey, { ok: true }, from("198.51.100.8"))).status).toBe(201);
  });

  it("counts the address the load balancer saw, not one the client wrote into X-Forwarded-For", async () => {
    for (let i = 0; i < 5; i++)
      expectProblem(await postEvent(stack, guess(i), { i }, from("198.51.100.9", `203.0.113.${i}`)), 401);
    expectProblem(await postEvent(stack, guess(5), { i: 5 }, from("198.51.100.9", "203.0.113.99")), 429);
  });

  it("with no proxy configured (the default), trusts no X-Forwarded-For: a client cannot pick a fresh address", async () => {
    const env = Object.fromEntries(Object.entries(stack.env).filter(([name]) => name !== "TRUST_PROXY_HOPS"));
    const direct = supertest(
      createApp({
        tenants: stack.stores.tenants,
        apiKeys: stack.stores.apiKeys,
        store: stack.store,
        queue: stack.queue,
        ...apiSettings(parseConfig(env, "api")),
        logger,
        metrics: createMetrics("api"),
        ready: async () => {},
      }),
    );
    const guessFrom = (i: number) =>
      direct
        .post("/v1/events")
        .set("authorization", `Bearer ${guess(i)}`)
        .set("x-forwarded-for", `203.0.113.${i}`)
        .send({ i });
    for (let i = 0; i < 5; i++) expectProblem(await guessFrom(i), 401);
    expectProblem(await guessFrom(5), 429);
  });

  it("does not count a request without credentials (nothing was looked up)", async () => {
    for (let i = 0; i < 8; i++) expectProblem(await stack.http.get("/v1/events").set(from("198.51.100.10")), 401);
    const c = await stack.createTenant([]);
    expect((await postEvent(stack, c.apiKey, { ok: true }, from("198.51.100.10"))).status).toBe(201);
  });
});

describe("the read limit", () => {
  let reads: Stack;
  beforeAll(async () => {
    reads = await startStack({ TENANT_READ_RATE_PER_S: "0.1", TENANT_READ_BURST: "3" });
  });
  afterAll(() => reads.close());

  it("answers a tenant's reads past its burst with 429 and Retry-After, its key and portal sessions alike; not writes, not other tenants, not operators", async () => {
    const c = await reads.createTenant([]);
    const d = await reads.createTenant([]);
    const get = (path: string, token: string) => reads.http.get(path).set("authorization", `Bearer ${token}`);
    const session = await reads.http.post("/v1/portal-sessions").set("authorization", `Bearer ${c.apiKey}`);
    const token = /#token=(\S+)$/.exec(session.body.url as string)![1]!;
    expect((await get("/v1/events", c.apiKey)).status).toBe(200);
    expect((await get("/v1/endpoints", c.apiKey)).status).toBe(200);
    expect((await get("/v1/endpoints", token)).status).toBe(200);
    for (const limited of [await get("/v1/events", c.apiKey), await get("/v1/events", token)]) {
      expect(expectProblem(limited, 429).detail).toMatch(
        /^This tenant's rate limit on reads is reached; retry in \d+ s\.$/,
      );
      expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    expect((await postEvent(reads, c.apiKey, { still: "writes" })).status).toBe(201);
    expect((await get("/v1/events", d.apiKey)).status).toBe(200);
    expect((await get(`/admin/tenants/${c.tenantId}/events`, reads.adminToken)).status).toBe(200);
  });
});

describe("readiness", () => {
  it("asks the backends at most once per 5 s however often /readyz is called (once a second after a failure)", async () => {
    let clock = Date.now();
    let checks = 0;
    let failing = false;
    const app = createApp({
      tenants: stack.stores.tenants,
      apiKeys: stack.stores.apiKeys,
      store: stack.store,
      queue: stack.queue,
      ...apiSettings(stack.config),
      logger,
      metrics: createMetrics("api"),
      now: () => clock,
      ready: async () => {
        checks++;
        if (failing) throw new Error("DescribeTable throttled");
      },
    });
    const http = supertest(app);
    const statuses = await Promise.all(Array.from({ length: 20 }, () => http.get("/readyz").then((r) => r.status)));
    expect(statuses).toEqual(Array(20).fill(200));
    expect(checks).toBe(1);
    clock += 5000;
    failing = true;
    for (let i = 0; i < 5; i++) expectProblem(await http.get("/readyz"), 503);
    expect(checks).toBe(2);
    clock += 1000;
    failing = false;
    expect((await http.get("/readyz")).status).toBe(200);
    expect(checks).toBe(3);
  });
});

describe("slow clients", () => {
  let api: ServiceProcess;
  beforeAll(async () => {
    api = await startApiProcess({ ...stack.env, HEADERS_TIMEOUT_MS: "1000" });
  });
  afterAll(() => api.kill("SIGTERM"));

  it("cuts off a client dribbling its headers while others are served", async () => {
    const socket = connect(api.port, "127.0.0.1");
    socket.on("error", () => undefined);
    const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now())));
    const opened = Date.now();
    socket.write("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const dribble = setInterval(() => socket.writable && socket.write("X-Slow: y\r\n"), 200);
    try {
      for (let i = 0; i < 5; i++) expect((await fetch(`http://127.0.0.1:${api.port}/healthz`)).status).toBe(200);
      const closedAt = await closed;
      expect(closedAt - opened).toBeLessThan(4000);
    } finally {
      clearInterval(dribble);
      socket.destroy();
    }
  });
});
