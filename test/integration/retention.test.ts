/**
 * Retention per tenant: `retention_days` on the tenant sets the TTL of its events, attempt records and health figures
 * written from then on (what DynamoDB's TTL acts on in AWS: each item's `ttl` is asserted here), and on the local stack
 * the TTL sweeper deletes what AWS's TTL would, since the emulators never expire anything.
 */
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expireAll } from "../../services/aws/expire-items.ts";
import { tableDefinitions } from "../../services/aws/tables.ts";
import { startTtlSweeper } from "../../services/local/ttl-sweeper.ts";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

const day = 86_400;
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

const admin = () => ({ authorization: `Bearer ${stack.adminToken}` });

async function tenantWith(retentionDays?: number): Promise<CreatedTenant> {
  const t = await stack.createTenant([{ url: `${receiver.url}/r` }]);
  if (retentionDays !== undefined) {
    const res = await stack.http
      .patch(`/admin/tenants/${t.tenantId}`)
      .set(admin())
      .send({ retention_days: retentionDays });
    expect(res.status, res.text).toBe(200);
  }
  return t;
}

async function item(tenantId: string, sk: string) {
  const { Item } = await stack.clients.ddb.send(
    new GetCommand({ TableName: stack.tables.events, Key: { tenantId, sk }, ConsistentRead: true }),
  );
  return Item;
}

async function delivered(t: CreatedTenant): Promise<{ eventId: string; settledS: number }> {
  const res = await postEvent(stack, t.apiKey, { type: "order.paid" });
  expect(res.status).toBe(201);
  const eventId = res.body.event_id as string;
  await eventually(async () => (await item(t.tenantId, eventId))?.status === "DELIVERED", { what: "delivered" });
  return { eventId, settledS: Math.floor(Date.now() / 1000) };
}

/** `ttl` is `days` after `at` (epoch s), give or take the test's own running time. */
function expectTtl(ttl: unknown, atS: number, days: number) {
  expect(ttl).toEqual(expect.any(Number));
  expect(Math.abs((ttl as number) - (atS + days * day))).toBeLessThan(120);
}

describe("retention per tenant", () => {
  it("defaults to 30 days, is shown to the operator and to the tenant (the portal's header), and is bounded 1–365 (422 outside)", async () => {
    const t = await tenantWith();
    const got = await stack.http.get(`/admin/tenants/${t.tenantId}`).set(admin());
    expect(got.body.retention_days).toBe(30);
    const own = await stack.http.get("/v1/tenant").set("authorization", `Bearer ${t.apiKey}`);
    expect(own.body).toMatchObject({ tenant_id: t.tenantId, retention_days: 30 });
    for (const bad of [0, 366, 1.5, "7"]) {
      const res = await stack.http.patch(`/admin/tenants/${t.tenantId}`).set(admin()).send({ retention_days: bad });
      expectProblem(res, 422);
    }
    const created = await stack.http
      .post("/admin/tenants")
      .set(admin())
      .send({ name: "short memory", retention_days: 2 });
    expect(created.status, created.text).toBe(201);
    expect(created.body.retention_days).toBe(2);
  });

  it("sets the TTL of the tenant's events, attempt records and health figures", async () => {
    const t = await tenantWith(1);
    const { eventId, settledS } = await delivered(t);
    const endpointId = t.endpoints[0]!.endpointId;
    expectTtl((await item(t.tenantId, eventId))?.ttl, settledS, 1);
    expectTtl((await item(t.tenantId, `${eventId}#${endpointId}#0001`))?.ttl, settledS, 1);
    // Figures are kept two days, or the tenant's retention when that is shorter.
    const figures = await eventually(async () => {
      const { Items } = await stack.clients.ddb.send(
        new QueryCommand({
          TableName: stack.tables.events,
          KeyConditionExpression: "tenantId = :t AND begins_with(sk, :p)",
          ExpressionAttributeValues: { ":t": t.tenantId, ":p": `#stats#${endpointId}#` },
        }),
      );
      return Items?.length ? Items : undefined;
    });
    for (const f of figures) expect(f.ttl as number).toBeLessThanOrEqual(settledS + day + 60);
  });

  it("a change applies to data written from then on, and the answer says so", async () => {
    const t = await tenantWith(1);
    const before = await delivered(t);
    const res = await stack.http.patch(`/admin/tenants/${t.tenantId}`).set(admin()).send({ retention_days: 90 });
    expect(res.status).toBe(200);
    expect(res.body.retention_days).toBe(90);
    expect(res.body.notice).toMatch(/written from now on/);
    const same = await stack.http.patch(`/admin/tenants/${t.tenantId}`).set(admin()).send({ name: "renamed" });
    expect(same.body.notice).toBeUndefined();
    const after = await delivered(t);
    expectTtl((await item(t.tenantId, before.eventId))?.ttl, before.settledS, 1);
    expectTtl((await item(t.tenantId, after.eventId))?.ttl, after.settledS, 90);
  });
});

describe("the local TTL sweeper", () => {
  const nowS = () => Math.floor(Date.now() / 1000);
  const put = (sk: string, ttl?: number) =>
    stack.clients.ddb.send(
      new PutCommand({
        TableName: stack.tables.events,
        Item: { tenantId: "ten_ttl", sk, ...(ttl === undefined ? {} : { ttl }) },
      }),
    );

  it("deletes the items whose ttl has passed, and only those", async () => {
    await Promise.all([put("expired", nowS() - 10), put("live", nowS() + 3600), put("forever")]);
    const deleted = await expireAll(stack.clients.ddb, tableDefinitions(stack.tables), nowS(), 1);
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await item("ten_ttl", "expired")).toBeUndefined();
    expect(await item("ten_ttl", "live")).toBeDefined();
    expect(await item("ten_ttl", "forever")).toBeDefined();
  });

  it("runs on its own, as npm start runs it", async () => {
    const sweeper = startTtlSweeper({
      ddb: stack.clients.ddb,
      tables: stack.tables,
      intervalMs: 100,
      log: pino({ level: "silent" }),
      now: Date.now,
    });
    try {
      await put("soon", nowS() - 1);
      await eventually(async () => (await item("ten_ttl", "soon")) === undefined, { what: "the item swept" });
      expect(await item("ten_ttl", "live")).toBeDefined();
    } finally {
      await sweeper.stop();
    }
  });
});
