/** The admin API and tenant-scoped endpoint management: each route's success and its errors. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTenant } from "../../services/aws/tenants.ts";
import { postEvent } from "../support/api.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let t: CreatedTenant;
let admin: string;

beforeAll(async () => {
  stack = await startStack();
  admin = `Bearer ${stack.adminToken}`;
  t = await stack.createTenant([{ url: "http://127.0.0.1:9/first" }]);
});
afterAll(() => stack.close());

const as = (key: string) => `Bearer ${key}`;

describe("tenants", () => {
  it("lists with a cursor, disables (401 for its keys), re-enables, and soft-deletes", async () => {
    const extra = await stack.createTenant([]);
    const page = await stack.http.get("/admin/tenants?limit=1").set("authorization", admin);
    expect(page.status).toBe(200);
    expect(page.body.data).toHaveLength(1);
    const rest = await stack.http
      .get(`/admin/tenants?limit=100&cursor=${page.body.next_cursor}`)
      .set("authorization", admin);
    const ids = [...page.body.data, ...rest.body.data].map((x: { tenant_id: string }) => x.tenant_id);
    expect(ids).toEqual(expect.arrayContaining([t.tenantId, extra.tenantId]));
    expectProblem(await stack.http.get("/admin/tenants?cursor=zzz").set("authorization", admin), 400);

    const disabled = await stack.http
      .patch(`/admin/tenants/${extra.tenantId}`)
      .set("authorization", admin)
      .send({ status: "disabled" });
    expect(disabled.body).toMatchObject({ status: "disabled" });
    expectProblem(await postEvent(stack, extra.apiKey, { type: "x" }), 401);
    await stack.http
      .patch(`/admin/tenants/${extra.tenantId}`)
      .set("authorization", admin)
      .send({ status: "active", name: "Renamed" });
    expect((await postEvent(stack, extra.apiKey, { type: "x" })).status).toBe(201);
    expectProblem(
      await stack.http.patch(`/admin/tenants/${extra.tenantId}`).set("authorization", admin).send({ status: "gone" }),
      422,
    );

    expect((await stack.http.delete(`/admin/tenants/${extra.tenantId}`).set("authorization", admin)).status).toBe(204);
    expectProblem(await stack.http.get(`/admin/tenants/${extra.tenantId}`).set("authorization", admin), 404);
    expectProblem(await postEvent(stack, extra.apiKey, { type: "x" }), 401);
    expectProblem(await stack.http.delete(`/admin/tenants/${extra.tenantId}`).set("authorization", admin), 404);
  });

  it("answers 403 to a tenant key on every admin route", async () => {
    for (const [method, path] of [
      ["get", "/admin/tenants"],
      ["get", `/admin/tenants/${t.tenantId}/api-keys`],
      ["get", "/admin/dlq"],
      ["get", "/admin/stats"],
      ["post", "/admin/dlq/requeue"],
    ] as const) {
      expectProblem(await stack.http[method](path).set("authorization", as(t.apiKey)), 403);
    }
  });
});

describe("operator paths", () => {
  it("are matched case-sensitively, as the load balancer's rules on them are: /ADMIN cannot slip past those rules", async () => {
    expect((await stack.http.get("/admin/stats").set("authorization", admin)).status).toBe(200);
    for (const path of ["/ADMIN/stats", "/Admin/tenants", "/METRICS", "/Console/"])
      expectProblem(await stack.http.get(path).set("authorization", admin), 404);
  });
});

describe("API keys", () => {
  it("issues another key, lists keys without the key itself, and revokes at once (cache off here)", async () => {
    const issued = await stack.http.post(`/admin/tenants/${t.tenantId}/api-keys`).set("authorization", admin);
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({
      key_id: expect.stringMatching(/^key_/),
      api_key: expect.stringMatching(/^whk_/),
      revoked_at: null,
    });
    expect((await postEvent(stack, issued.body.api_key, { type: "k" })).status).toBe(201);

    const list = await stack.http.get(`/admin/tenants/${t.tenantId}/api-keys`).set("authorization", admin);
    expect(list.body.data).toHaveLength(2);
    expect(JSON.stringify(list.body)).not.toContain(issued.body.api_key);
    const listed = list.body.data.find((k: { key_id: string }) => k.key_id === issued.body.key_id);
    expect(listed).toMatchObject({
      prefix: issued.body.api_key.split("_").slice(0, 2).join("_"),
      last_used_day: new Date().toISOString().slice(0, 10),
    });

    expect(
      (
        await stack.http
          .delete(`/admin/tenants/${t.tenantId}/api-keys/${issued.body.key_id}`)
          .set("authorization", admin)
      ).status,
    ).toBe(204);
    expectProblem(await postEvent(stack, issued.body.api_key, { type: "k" }), 401);
    expect((await postEvent(stack, t.apiKey, { type: "k" })).status).toBe(201);
    expectProblem(
      await stack.http.delete(`/admin/tenants/${t.tenantId}/api-keys/key_nope`).set("authorization", admin),
      404,
    );
    expectProblem(await stack.http.post("/admin/tenants/ten_nope/api-keys").set("authorization", admin), 404);
  });
});

describe("endpoints", () => {
  it("create, list, get, update, delete under /v1/endpoints, scoped to the key's tenant", async () => {
    const auth = as(t.apiKey);
    const created = await stack.http
      .post("/v1/endpoints")
      .set("authorization", auth)
      .send({ url: "http://127.0.0.1:9/new", event_types: ["a.*"] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      endpoint_id: expect.stringMatching(/^ep_/),
      secret: expect.stringMatching(/^whsec_/),
      enabled: true,
    });
    const id = created.body.endpoint_id as string;

    const list = await stack.http.get("/v1/endpoints").set("authorization", auth);
    expect(list.body.data.map((e: { endpoint_id: string }) => e.endpoint_id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain("whsec_");

    const patched = await stack.http
      .patch(`/v1/endpoints/${id}`)
      .set("authorization", auth)
      .send({ description: "orders", enabled: false });
    expect(patched.body).toMatchObject({
      description: "orders",
      enabled: false,
      disabled_reason: "disabled by request",
      event_types: ["a.*"],
    });
    const enabled = await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true });
    expect(enabled.body.disabled_reason).toBeUndefined();

    expectProblem(
      await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ url: "ftp://x" }),
      422,
    );
    expectProblem(
      await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ secret: "mine" }),
      422,
    );
    expectProblem(await stack.http.post("/v1/endpoints").set("authorization", auth).send({}), 422);

    const other = await stack.createTenant([]);
    expectProblem(await stack.http.get(`/v1/endpoints/${id}`).set("authorization", as(other.apiKey)), 404);
    expectProblem(await stack.http.delete(`/v1/endpoints/${id}`).set("authorization", as(other.apiKey)), 404);

    expect((await stack.http.delete(`/v1/endpoints/${id}`).set("authorization", auth)).status).toBe(204);
    expectProblem(await stack.http.get(`/v1/endpoints/${id}`).set("authorization", auth), 404);
    expectProblem(await stack.http.get("/v1/endpoints").set("authorization", "Bearer whk_x_y"), 401);
  });

  it("the same under /admin/tenants/{id}/endpoints, and rotation answers the new secret once", async () => {
    const base = `/admin/tenants/${t.tenantId}/endpoints`;
    const created = await stack.http.post(base).set("authorization", admin).send({ url: "http://127.0.0.1:9/admin" });
    expect(created.status).toBe(201);
    const id = created.body.endpoint_id as string;
    const rotated = await stack.http
      .post(`${base}/${id}/rotate-secret`)
      .set("authorization", admin)
      .send({ grace_period: "1h" });
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(Date.parse(rotated.body.previous_secrets_expire_at) - Date.now()).toBeGreaterThan(3_500_000);
    // No body at all is fine: the default grace period applies.
    expect((await stack.http.post(`${base}/${id}/rotate-secret`).set("authorization", admin)).status).toBe(201);
    expectProblem(
      await stack.http.post(`${base}/${id}/rotate-secret`).set("authorization", admin).send({ grace_period: "soon" }),
      422,
    );
    expectProblem(
      await stack.http.get(`/admin/tenants/ten_01ABCDEFGHJKMNPQRSTVWXYZ00/endpoints`).set("authorization", admin),
      404,
    );
    expectProblem(
      await stack.http.post(`${base}/ep_01ABCDEFGHJKMNPQRSTVWXYZ00/rotate-secret`).set("authorization", admin),
      404,
    );
    expectProblem(await stack.http.get(base), 401);
  });
});

describe("secret rotation bounds", () => {
  it("refuses a grace period beyond 7 days (an unbounded one stored the secret, then answered 500) and keeps three secrets", async () => {
    const base = `/admin/tenants/${t.tenantId}/endpoints`;
    const created = await stack.http.post(base).set("authorization", admin).send({ url: "http://127.0.0.1:9/bounded" });
    const id = created.body.endpoint_id as string;
    for (const grace of ["100000000d", "8d", "169h"]) {
      expectProblem(
        await stack.http.post(`${base}/${id}/rotate-secret`).set("authorization", admin).send({ grace_period: grace }),
        422,
      );
    }
    for (let i = 0; i < 6; i++) {
      expect(
        (await stack.http.post(`${base}/${id}/rotate-secret`).set("authorization", admin).send({ grace_period: "7d" }))
          .status,
      ).toBe(201);
    }
    expect((await getTenant(stack.stores.tenants, t.tenantId))?.endpoints[id]?.secrets).toHaveLength(3);
  });
});

describe("stats and DLQ peek", () => {
  it("answers queue depths and an empty DLQ", async () => {
    const stats = await stack.http.get("/admin/stats").set("authorization", admin);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({
      queue: { visible: expect.any(Number), in_flight: expect.any(Number), delayed: expect.any(Number) },
      dead_letter_queue: { visible: 0, in_flight: 0, delayed: 0 },
    });
    expect(stats.body.queue.oldest_due_at).toEqual(expect.any(String));
    expect((await stack.http.get("/admin/dlq").set("authorization", admin)).body).toEqual({ count: 0, data: [] });
    expectProblem(await stack.http.get("/admin/dlq?limit=0").set("authorization", admin), 422);
    expectProblem(await stack.http.post("/admin/dlq/requeue").set("authorization", admin).send({}), 422);
  });
});
