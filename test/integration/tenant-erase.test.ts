/**
 * Erasing a whole tenant (POST /admin/tenants/{id}/erase): a bounded, resumable job that leaves no item of the tenant in
 * any table (each table scanned here), none of its messages in the DLQ, answers its progress and a report, and tells
 * operators with a `tenant.erased` operational webhook. Afterwards the tenant is unknown. Another tenant is untouched.
 */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eraseAction } from "../../services/core/audit.ts";
import { systemTenantId } from "../../services/core/system-tenant.ts";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let t: CreatedTenant;
let other: CreatedTenant;
let otherEvent: string;
const admin = () => ({ authorization: `Bearer ${stack.adminToken}` });

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  receiver.behave((req) => ({ status: req.url.endsWith("/gone") ? 410 : 200, body: "" }));
  const ops = await stack.http
    .post("/admin/operational-endpoints")
    .set(admin())
    .send({ url: `${receiver.url}/ops`, event_types: ["tenant.erased"] });
  expect(ops.status, ops.text).toBe(201);
  t = await stack.createTenant([{ url: `${receiver.url}/ok` }, { url: `${receiver.url}/gone` }]);
  other = await stack.createTenant([{ url: `${receiver.url}/ok` }]);
  stack.startWorker();
  const type = await stack.http
    .put("/v1/event-types/order.paid")
    .set("authorization", `Bearer ${t.apiKey}`)
    .send({ description: "paid" });
  expect(type.status, type.text).toBeLessThan(300);
  await stack.http.post(`/admin/tenants/${t.tenantId}/portal-sessions`).set(admin()).send({});
  await stack.http.post(`/admin/tenants/${t.tenantId}/api-keys`).set(admin());
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await postEvent(stack, t.apiKey, { type: "order.paid", i })).body.event_id as string);
  otherEvent = (await postEvent(stack, other.apiKey, { type: "order.paid" })).body.event_id as string;
  await eventually(
    async () => {
      const reads = await Promise.all(
        ids.map((id) => stack.http.get(`/v1/events/${id}`).set("authorization", `Bearer ${t.apiKey}`)),
      );
      // A 410 disables the endpoint: the first events die there (and go to the DLQ), the later ones are skipped.
      return reads.every((r) => r.body.status === "DEAD" || r.body.status === "SKIPPED");
    },
    { what: "every event settled (delivered to one endpoint, dead or skipped at the other)" },
  );
  const dlq = await stack.http.get(`/admin/dlq?tenant_id=${t.tenantId}`).set(admin());
  expect(dlq.body.data.length).toBeGreaterThan(0);
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

/** Every item of the three tables that names `id` anywhere (binary attributes read as text). */
async function itemsNaming(id: string): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (const table of [stack.tables.tenants, stack.tables.apiKeys, stack.tables.events]) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await stack.clients.ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const text = JSON.stringify(item, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString() : v,
        );
        if (text.includes(id)) found.push(item);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return found;
}

describe("erasing a tenant", () => {
  it("refuses without the tenant's id as confirmation, and erases nothing", async () => {
    const res = await stack.http
      .post(`/admin/tenants/${t.tenantId}/erase`)
      .set(admin())
      .send({ confirm: other.tenantId });
    expectProblem(res, 422);
    expectProblem(await stack.http.post(`/admin/tenants/${t.tenantId}/erase`).set(admin()).send({}), 422);
    expect((await stack.http.get(`/admin/tenants/${t.tenantId}`).set(admin())).status).toBe(200);
  });

  it("runs in bounded steps with progress, then reports what it removed and tells operators", async () => {
    expect((await itemsNaming(t.tenantId)).length).toBeGreaterThan(20);
    const steps: { status: number; body: { status: string; phase: string; removed: Record<string, number> } }[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await stack.http
        .post(`/admin/tenants/${t.tenantId}/erase`)
        .set(admin())
        .send({ confirm: t.tenantId, limit: 5 });
      steps.push(res);
      if (res.status !== 202) break;
      // While it runs, the tenant's key no longer works.
      if (i === 0)
        expect((await stack.http.get("/v1/events").set("authorization", `Bearer ${t.apiKey}`)).status).toBe(401);
    }
    const last = steps.at(-1)!;
    expect(last.status).toBe(200);
    expect(steps.length).toBeGreaterThan(3);
    expect(steps.slice(0, -1).every((s) => s.body.status === "running")).toBe(true);
    expect(last.body).toMatchObject({
      tenant_id: t.tenantId,
      status: "done",
      phase: "done",
      finished_at: expect.any(String),
    });
    expect(last.body.removed).toMatchObject({ api_keys: 2, events: 5 });
    expect(last.body.removed.dead_letters).toBeGreaterThanOrEqual(1);
    expect(last.body.removed.attempt_records).toBeGreaterThanOrEqual(6);
    expect(last.body.removed.audit_entries).toBeGreaterThanOrEqual(3);
    expect(last.body.removed.other_items).toBeGreaterThanOrEqual(2); // the catalog's items, health figures

    const webhook = await eventually(
      () => receiver.requests.find((r) => r.url.endsWith("/ops") && r.body.toString().includes(t.tenantId)),
      { what: "the tenant.erased webhook" },
    );
    expect(JSON.parse(webhook.body.toString())).toMatchObject({
      type: "tenant.erased",
      data: { tenant_id: t.tenantId, removed: last.body.removed },
    });
  });

  it("leaves no item of it in any table, none of its messages in the DLQ, and the tenant unknown", async () => {
    // What names it still: the operators' record of the erasure (its audit entries) and the operational event
    // reporting it (the system tenant's), both holding its id and counts only.
    for (const item of await itemsNaming(t.tenantId)) {
      const isEraseRecord = item.tenantId === "#audit" && item.action === eraseAction;
      const isReport = item.tenantId === systemTenantId;
      expect(isEraseRecord || isReport, JSON.stringify(item).slice(0, 200)).toBe(true);
    }
    expect((await stack.http.get(`/admin/tenants/${t.tenantId}`).set(admin())).status).toBe(404);
    expect((await stack.http.get(`/admin/tenants/${t.tenantId}/events`).set(admin())).body.data ?? []).toEqual([]);
    expect((await stack.http.get("/v1/tenant").set("authorization", `Bearer ${t.apiKey}`)).status).toBe(401);
    const dlq = await stack.http.get(`/admin/dlq?tenant_id=${t.tenantId}`).set(admin());
    expect(dlq.body.data).toEqual([]);
    const audit = await stack.http.get(`/admin/audit?tenant_id=${t.tenantId}`).set(admin());
    expect(audit.body.data).toEqual([]);
    expectProblem(
      await stack.http.post(`/admin/tenants/${t.tenantId}/erase`).set(admin()).send({ confirm: t.tenantId }),
      404,
    );
    // The other tenant is untouched.
    const kept = await stack.http.get(`/v1/events/${otherEvent}`).set("authorization", `Bearer ${other.apiKey}`);
    expect(kept.status).toBe(200);
  });
});
