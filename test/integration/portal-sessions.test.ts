/**
 * Portal sessions at the API: minted by an operator or by the tenant's own key, for one tenant, signed and
 * short-lived; the token works on /v1 as the tenant's key would (and no further), a read-only one only reads, and an
 * expired or altered one is refused like an unknown key. The token never reaches the log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogs } from "../support/log-capture.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let a: CreatedTenant;
let b: CreatedTenant;
const { logger, lines } = captureLogs("debug");
const tokens: string[] = [];

beforeAll(async () => {
  stack = await startStack({ PUBLIC_URL: "https://webhooks.example.com" }, { logger });
  a = await stack.createTenant([{ url: "http://127.0.0.1:9/a" }]);
  b = await stack.createTenant([{ url: "http://127.0.0.1:9/b" }]);
});
afterAll(() => stack.close());

/** A session for `tenantId` opened by the operator; its token, from the link's fragment. */
async function session(tenantId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await stack.http
    .post(`/admin/tenants/${tenantId}/portal-sessions`)
    .set("authorization", `Bearer ${stack.adminToken}`)
    .send(body);
  expect(res.status).toBe(201);
  const token = /#token=(wps_[\w.-]+)$/.exec(res.body.url as string)![1]!;
  tokens.push(token);
  return token;
}

const as = (token: string) => ({
  get: (path: string) => stack.http.get(path).set("authorization", `Bearer ${token}`),
  post: (path: string, body: object = {}) => stack.http.post(path).set("authorization", `Bearer ${token}`).send(body),
  patch: (path: string, body: object) => stack.http.patch(path).set("authorization", `Bearer ${token}`).send(body),
});

describe("portal sessions", () => {
  it("are links to /portal for one tenant, in the fragment, for at most an hour", async () => {
    const res = await stack.http
      .post(`/admin/tenants/${a.tenantId}/portal-sessions`)
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ read_only: true, expires_in: "15m" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      url: expect.stringMatching(/^https:\/\/webhooks\.example\.com\/portal\/#token=wps_/),
      expires_at: expect.any(String),
      read_only: true,
    });
    const inMs = Date.parse(res.body.expires_at as string) - Date.now();
    expect(inMs).toBeGreaterThan(14 * 60_000);
    expect(inMs).toBeLessThanOrEqual(15 * 60_000 + 1000);
    const byDefault = await stack.http
      .post(`/admin/tenants/${a.tenantId}/portal-sessions`)
      .set("authorization", `Bearer ${stack.adminToken}`);
    expect(Date.parse(byDefault.body.expires_at as string) - Date.now()).toBeGreaterThan(59 * 60_000);
    // Read-only unless asked otherwise, whoever mints it.
    expect(byDefault.body.read_only).toBe(true);
    expectProblem(
      await stack.http
        .post(`/admin/tenants/${a.tenantId}/portal-sessions`)
        .set("authorization", `Bearer ${stack.adminToken}`)
        .send({ expires_in: "2h" }),
      422,
    );
    expectProblem(
      await stack.http
        .post("/admin/tenants/ten_00000000000000000000000000/portal-sessions")
        .set("authorization", `Bearer ${stack.adminToken}`),
      404,
    );
  });

  it("act as the tenant's key on /v1, for that tenant only, and never on /admin", async () => {
    const token = await session(a.tenantId, { read_only: false });
    const mine = await as(token).get("/v1/endpoints");
    expect(mine.status).toBe(200);
    expect((mine.body.data as { endpoint_id: string }[]).map((e) => e.endpoint_id)).toEqual([
      a.endpoints[0]!.endpointId,
    ]);
    expectProblem(await as(token).get(`/v1/endpoints/${b.endpoints[0]!.endpointId}`), 404);
    const created = await as(token).post("/v1/endpoints", { url: "http://127.0.0.1:9/made-in-the-portal" });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    expectProblem(await as(token).get("/admin/tenants"), 403);
    // Only the key opens a session: a session cannot extend itself.
    expectProblem(await as(token).post("/v1/portal-sessions"), 403);
    const byKey = await stack.http
      .post("/v1/portal-sessions")
      .set("authorization", `Bearer ${a.apiKey}`)
      .send({ read_only: true });
    expect(byKey.status).toBe(201);
    expect(byKey.body.read_only).toBe(true);
    tokens.push(/#token=(\S+)$/.exec(byKey.body.url as string)![1]!);
  });

  it("read-only: reads, and every write is refused with 403", async () => {
    const token = await session(a.tenantId, { read_only: true });
    const endpoint = `/v1/endpoints/${a.endpoints[0]!.endpointId}`;
    expect((await as(token).get(endpoint)).status).toBe(200);
    expect((await as(token).get(`${endpoint}/stats`)).status).toBe(200);
    expectProblem(await as(token).post("/v1/endpoints", { url: "http://127.0.0.1:9/nope" }), 403);
    expectProblem(await as(token).post(`${endpoint}/rotate-secret`), 403);
    expectProblem(await as(token).patch(endpoint, { enabled: false }), 403);
    expectProblem(await as(token).post(`${endpoint}/test`), 403);
    expectProblem(await as(token).post("/v1/events", { type: "x" }), 403);
    expect((await stack.http.get(endpoint).set("authorization", `Bearer ${a.apiKey}`)).body.enabled).toBe(true);
  });

  it("refuses an expired, altered or foreign-signed token like an unknown key, and a disabled tenant's", async () => {
    const short = await session(a.tenantId, { expires_in: "1s" });
    expect((await as(short).get("/v1/endpoints")).status).toBe(200);
    await eventually(async () => (await as(short).get("/v1/endpoints")).status === 401, {
      what: "the session to expire",
      timeoutMs: 5000,
    });
    const token = await session(a.tenantId, { read_only: true });
    const [payload, signature] = token.slice(4).split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const forged = `wps_${Buffer.from(JSON.stringify({ ...claims, t: b.tenantId, ro: false })).toString("base64url")}.${signature}`;
    for (const bad of [forged, `${token.slice(0, -3)}AAA`, "wps_nonsense"])
      expectProblem(await as(bad).get("/v1/endpoints"), 401);
    const other = await session(b.tenantId);
    await stack.http
      .patch(`/admin/tenants/${b.tenantId}`)
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ status: "disabled" });
    expectProblem(await as(other).get("/v1/endpoints"), 401);
  });

  it("minted with a key: read-only unless asked, and ended by revoking that key (not by revoking another)", async () => {
    const c = await stack.createTenant([{ url: "http://127.0.0.1:9/c" }]);
    const admin = `Bearer ${stack.adminToken}`;
    const other = await stack.http.post(`/admin/tenants/${c.tenantId}/api-keys`).set("authorization", admin);
    const mint = async (apiKey: string, body: object = {}) => {
      const res = await stack.http.post("/v1/portal-sessions").set("authorization", `Bearer ${apiKey}`).send(body);
      expect(res.status).toBe(201);
      tokens.push(/#token=(\S+)$/.exec(res.body.url as string)![1]!);
      return { token: tokens.at(-1)!, readOnly: res.body.read_only as boolean };
    };
    const plain = await mint(c.apiKey);
    expect(plain.readOnly).toBe(true);
    expectProblem(await as(plain.token).post("/v1/endpoints", { url: "http://127.0.0.1:9/nope" }), 403);
    const writable = await mint(c.apiKey, { read_only: false });
    expect(writable.readOnly).toBe(false);
    const byOther = await mint(other.body.api_key as string);
    const byOperator = await session(c.tenantId);
    for (const t of [plain.token, writable.token, byOther.token, byOperator])
      expect((await as(t).get("/v1/endpoints")).status).toBe(200);

    const keys = await stack.http.get(`/admin/tenants/${c.tenantId}/api-keys`).set("authorization", admin);
    const leaked = (keys.body.data as { key_id: string; prefix: string }[]).find((k) =>
      c.apiKey.startsWith(`${k.prefix}_`),
    )!;
    const revoked = await stack.http
      .delete(`/admin/tenants/${c.tenantId}/api-keys/${leaked.key_id}`)
      .set("authorization", admin);
    expect(revoked.status).toBe(204);
    // This stack caches nothing (AUTH_CACHE_TTL_MS=0): at once. A deployment: within AUTH_CACHE_TTL_MS.
    for (const t of [plain.token, writable.token]) {
      expectProblem(await as(t).get("/v1/endpoints"), 401);
      expectProblem(await as(t).patch(`/v1/endpoints/${c.endpoints[0]!.endpointId}`, { enabled: false }), 401);
    }
    for (const t of [byOther.token, byOperator]) expect((await as(t).get("/v1/endpoints")).status).toBe(200);
  });

  it("are throttled per tenant when a key mints them: 429 with Retry-After past ten", async () => {
    const d = await stack.createTenant([]);
    const mint = () => stack.http.post("/v1/portal-sessions").set("authorization", `Bearer ${d.apiKey}`);
    for (let i = 0; i < 10; i++) expect((await mint()).status).toBe(201);
    const limited = await mint();
    expect(expectProblem(limited, 429).detail).toMatch(/^This tenant's limit on portal sessions is reached/);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // Another tenant is not held back.
    expect((await stack.http.post("/v1/portal-sessions").set("authorization", `Bearer ${a.apiKey}`)).status).toBe(201);
  });

  it("name their tenant (GET /v1/tenant): the portal's header shows whose it is", async () => {
    const token = await session(a.tenantId);
    expect((await as(token).get("/v1/tenant")).body).toEqual({
      tenant_id: a.tenantId,
      name: expect.any(String),
      retention_days: 30,
    });
    const renamed = await stack.http
      .patch(`/admin/tenants/${a.tenantId}`)
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ name: "Acme invoicing" });
    expect(renamed.status).toBe(200);
    const mine = await stack.http.get("/v1/tenant").set("authorization", `Bearer ${a.apiKey}`);
    expect(mine.body).toEqual({ tenant_id: a.tenantId, name: "Acme invoicing", retention_days: 30 });
  });

  it("never writes a token to the log, even one pasted into a query", async () => {
    await stack.http.get(`/portal/?token=${tokens[0]!}`);
    const all = lines.join("\n");
    expect(all).toContain('"path":"/portal/"');
    expect(lines.length).toBeGreaterThan(10);
    expect(tokens.length).toBeGreaterThan(4);
    for (const token of tokens) expect(all).not.toContain(token.slice(4, 40));
    expect(all).not.toContain("wps_");
    expect(all).toContain("portal session opened");
  });
});
