/**
 * The audit log: every change by an operator, an API key or a portal session is appended with who, what, when and from
 * which address; the tenant reads its own (GET /v1/audit, the portal too), operators every tenant's (GET
 * /admin/audit); entries are kept as the tenant's data is, and none holds a secret, a key, a token or a payload.
 */
import { randomBytes } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent } from "../support/api.ts";
import { startAwsFaultProxy } from "../support/aws-fault-proxy.ts";
import { startApiProcess } from "../support/processes.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const secrets: string[] = [];
const payloadMarker = `payload-${randomBytes(8).toString("hex")}`;

beforeAll(async () => {
  stack = await startStack();
  secrets.push(stack.adminToken);
});
afterAll(() => stack.close());

type Entry = {
  audit_id: string;
  at: string;
  actor: { kind: string; key_id: string | null };
  action: string;
  tenant_id: string | null;
  targets: Record<string, string>;
  address: string;
  status_code: number;
};

const call = async (method: "post" | "patch" | "delete", path: string, auth: string, body?: object) => {
  const req = stack.http[method](path).set("authorization", `Bearer ${auth}`);
  const res = await (body ? req.send(body) : req);
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return res.body as Record<string, unknown>;
};

async function all(path: string, auth: string): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  do {
    const res = await stack.http
      .get(`${path}${path.includes("?") ? "&" : "?"}limit=7${cursor ? `&cursor=${cursor}` : ""}`)
      .set("authorization", `Bearer ${auth}`);
    expect(res.status, res.text).toBe(200);
    out.push(...(res.body.data as Entry[]));
    cursor = res.body.next_cursor as string | null;
  } while (cursor);
  return out;
}

describe("the audit log", () => {
  let tenantId: string;
  let apiKey: string;
  let keyId: string;
  let endpointId: string;
  let eventId: string;
  let otherKey: string;
  const expected: { action: string; actor: string; target?: [string, () => string] }[] = [];

  beforeAll(async () => {
    const admin = stack.adminToken;
    const created = await call("post", "/admin/tenants", admin, {
      name: "audited",
      endpoints: [{ url: "http://127.0.0.1:9/a" }],
    });
    tenantId = created.tenant_id as string;
    apiKey = created.api_key as string;
    keyId = `key_${apiKey.split("_")[1]!}`;
    secrets.push(apiKey, ...(created.endpoints as { secret: string }[]).map((e) => e.secret));
    otherKey = (await call("post", "/admin/tenants", admin, { name: "other" })).api_key as string;
    secrets.push(otherKey);
    const t = `/admin/tenants/${tenantId}`;
    await call("patch", t, admin, { retention_days: 7 });
    const key = await call("post", `${t}/api-keys`, admin);
    secrets.push(key.api_key as string);
    await call("delete", `${t}/api-keys/${key.key_id as string}`, admin);
    const ep = await call("post", "/v1/endpoints", apiKey, { url: "http://127.0.0.1:9/b" });
    endpointId = ep.endpoint_id as string;
    secrets.push(ep.secret as string);
    await call("patch", `/v1/endpoints/${endpointId}`, apiKey, { description: "audited endpoint" });
    const rotated = await call("post", `/v1/endpoints/${endpointId}/rotate-secret`, apiKey);
    secrets.push(rotated.secret as string);
    eventId = (await postEvent(stack, apiKey, { type: "audit.seen", marker: payloadMarker })).body.event_id as string;
    await call("post", `/v1/events/${eventId}/retry`, apiKey);
    await call("post", `/v1/endpoints/${endpointId}/recover`, apiKey, {
      since: new Date(Date.now() - 60_000).toISOString(),
    });
    await call("post", "/admin/dlq/requeue", admin, { max_messages: 1, dry_run: true });
    await call("delete", `/v1/events/${eventId}/payload`, apiKey);
    const link = await call("post", "/v1/portal-sessions", apiKey, { read_only: false });
    const token = /#token=(\S+)$/.exec(link.url as string)![1]!;
    secrets.push(token);
    const adminLink = await call("post", `${t}/portal-sessions`, admin, {});
    secrets.push(/#token=(\S+)$/.exec(adminLink.url as string)![1]!);
    await call("patch", `/v1/endpoints/${endpointId}`, token, { description: "changed in the portal" });
    await call("delete", `/v1/endpoints/${endpointId}`, apiKey);
    expected.push(
      { action: "POST /admin/tenants", actor: "admin" },
      { action: "PATCH /admin/tenants/{tenant_id}", actor: "admin" },
      {
        action: "POST /admin/tenants/{tenant_id}/api-keys",
        actor: "admin",
        target: ["key_id", () => key.key_id as string],
      },
      { action: "DELETE /admin/tenants/{tenant_id}/api-keys/{key_id}", actor: "admin" },
      { action: "POST /v1/endpoints", actor: "api_key", target: ["endpoint_id", () => endpointId] },
      { action: "PATCH /v1/endpoints/{endpoint_id}", actor: "api_key" },
      { action: "POST /v1/endpoints/{endpoint_id}/rotate-secret", actor: "api_key" },
      { action: "POST /v1/events/{event_id}/retry", actor: "api_key", target: ["event_id", () => eventId] },
      { action: "POST /v1/endpoints/{endpoint_id}/recover", actor: "api_key" },
      { action: "DELETE /v1/events/{event_id}/payload", actor: "api_key" },
      { action: "POST /v1/portal-sessions", actor: "api_key" },
      { action: "POST /admin/tenants/{tenant_id}/portal-sessions", actor: "admin" },
      { action: "PATCH /v1/endpoints/{endpoint_id}", actor: "portal_session" },
      { action: "DELETE /v1/endpoints/{endpoint_id}", actor: "api_key" },
    );
  });

  it("appends each change with who, what, when and from where, for the tenant and for operators", async () => {
    // Each entry is recorded before its answer is sent: every one is there as soon as the last change was answered.
    const mine = await all("/v1/audit", apiKey);
    const ops = await all(`/admin/audit?tenant_id=${tenantId}`, stack.adminToken);
    expect(mine.length).toBeGreaterThanOrEqual(expected.length);
    expect(ops.length).toBe(mine.length);
    for (const want of expected) {
      const found = ops.find((e) => e.action === want.action && e.actor.kind === want.actor);
      expect(found, `${want.actor} ${want.action}`).toBeDefined();
      expect(found!.tenant_id).toBe(tenantId);
      expect(found!.address).toMatch(/127\.0\.0\.1$/);
      expect(Date.now() - Date.parse(found!.at)).toBeLessThan(120_000);
      if (want.target) expect(found!.targets[want.target[0]]).toBe(want.target[1]());
      if (want.actor === "api_key") expect(found!.actor.key_id).toBe(keyId);
    }
    // The tenant's own log: the same entries (its creation included), newest first.
    expect(mine.map((e) => e.audit_id).sort()).toEqual(ops.map((e) => e.audit_id).sort());
    expect([...mine].sort((a, b) => b.audit_id.localeCompare(a.audit_id))).toEqual(mine);
    // The platform's own action (the DLQ requeue) is in the operators' whole log only.
    const whole = await all("/admin/audit", stack.adminToken);
    expect(whole.find((e) => e.action === "POST /admin/dlq/requeue")).toMatchObject({ tenant_id: null });
    expect(mine.find((e) => e.action === "POST /admin/dlq/requeue")).toBeUndefined();
    // Sending an event changes no setting: not an entry.
    expect(whole.find((e) => e.action === "POST /v1/events")).toBeUndefined();
  });

  it("records a change's entry before answering it, however slow the write", async () => {
    // An API process whose audit writes reach DynamoDB a second late: the answer waits for them.
    const proxy = await startAwsFaultProxy(stack.env.AWS_ENDPOINT_URL_DYNAMODB!);
    proxy.delay("PutItem", "#audit", 1000);
    const api = await startApiProcess({ ...stack.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
    try {
      const res = await fetch(`http://127.0.0.1:${api.port}/v1/endpoints`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ url: "http://127.0.0.1:9/slow-audit" }),
      });
      expect(res.status).toBe(201);
      const { endpoint_id, secret } = (await res.json()) as { endpoint_id: string; secret: string };
      secrets.push(secret);
      const entries = await all("/v1/audit", apiKey);
      expect(entries.find((e) => e.targets.endpoint_id === endpoint_id)).toMatchObject({
        action: "POST /v1/endpoints",
      });
    } finally {
      await api.kill("SIGTERM");
      await proxy.close();
    }
  });

  it("shows a tenant its own entries only, and 400 for a cursor it did not give out", async () => {
    const theirs = await all("/v1/audit", otherKey);
    expect(theirs.every((e) => e.tenant_id !== tenantId)).toBe(true);
    expectProblem(await stack.http.get("/v1/audit?cursor=bogus").set("authorization", `Bearer ${apiKey}`), 400);
    expectProblem(
      await stack.http.get("/admin/audit?tenant_id=nope").set("authorization", `Bearer ${stack.adminToken}`),
      422,
    );
    expectProblem(await stack.http.get("/admin/audit").set("authorization", `Bearer ${apiKey}`), 403);
  });

  it("holds no secret, key, token or payload, and is kept as the tenant's data (its retention_days)", async () => {
    const { Items = [] } = await stack.clients.ddb.send(
      new QueryCommand({
        TableName: stack.tables.events,
        KeyConditionExpression: "tenantId = :t AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":t": tenantId, ":p": "#audit#" },
      }),
    );
    const { Items: ops = [] } = await stack.clients.ddb.send(
      new QueryCommand({
        TableName: stack.tables.events,
        KeyConditionExpression: "tenantId = :t",
        ExpressionAttributeValues: { ":t": "#audit" },
      }),
    );
    expect(Items.length).toBeGreaterThanOrEqual(expected.length);
    const text = JSON.stringify([Items, ops, await all("/admin/audit", stack.adminToken)]);
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    for (const s of [...secrets, payloadMarker]) expect(text).not.toContain(s);
    expect(text).not.toContain("whsec_");
    expect(text).not.toContain("wps_");
    const retained = Items.filter((i) => (i.at as number) > Date.now() - 120_000 && i.action !== "POST /admin/tenants");
    for (const i of retained.filter((i) => i.action !== "PATCH /admin/tenants/{tenant_id}"))
      expect(Math.abs((i.ttl as number) - ((i.at as number) / 1000 + 7 * 86_400))).toBeLessThan(5);
  });
});
