/**
 * Client errors stay client errors: errors Express and its middleware raise with a 4xx status, and cursors this
 * API never gave out (garbage, or forged to pass as one), answer their problem, never a 500 (which would also
 * count against the 5xx alarm).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ProblemError } from "../../services/core/errors.ts";
import { listEvents } from "../../services/aws/events/read-events.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let t: CreatedTenant;

beforeAll(async () => {
  stack = await startStack();
  t = await stack.createTenant([]);
});
afterAll(() => stack.close());

const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");

describe("errors with a client status", () => {
  it("a missing docs asset is a 404 problem that names no file on disk", async () => {
    const res = await stack.http.get("/docs/assets/nope.js");
    expect(expectProblem(res, 404).detail).toBe("GET /docs/assets/nope.js was not found.");
    expect(res.text).not.toMatch(/ENOENT|node_modules|\/work\//);
  });

  it("a path parameter that is not valid percent-encoding is a 400", async () => {
    expectProblem(await stack.http.get("/v1/events/%E0%A4%A").set("authorization", `Bearer ${t.apiKey}`), 400);
  });
});

describe("cursors", () => {
  const forged = [
    cursor({ sk: "", createdAt: "" }),
    cursor({ sk: "evt_x", createdAt: "yesterday" }),
    cursor({ sk: "x".repeat(2000), createdAt: "2026-01-01T00:00:00.000Z" }),
  ];

  it("answers 400 for a garbage or forged events cursor, and 200 for the real one", async () => {
    const auth = `Bearer ${t.apiKey}`;
    for (const c of [...forged, "zzz"])
      expectProblem(await stack.http.get(`/v1/events?cursor=${c}`).set("authorization", auth), 400);
    for (const c of forged)
      expectProblem(await stack.http.get(`/v1/events?status=DEAD&cursor=${c}`).set("authorization", auth), 400);
    const real = cursor({ sk: "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV", createdAt: "2026-01-01T00:00:00.000Z" });
    expect((await stack.http.get(`/v1/events?cursor=${real}`).set("authorization", auth)).status).toBe(200);
  });

  it("answers 400 for a forged tenants cursor", async () => {
    const admin = `Bearer ${stack.adminToken}`;
    for (const c of ["zzz", cursor({ tenantId: "" }), cursor({ tenantId: 42 })])
      expectProblem(await stack.http.get(`/admin/tenants?cursor=${c}`).set("authorization", admin), 400);
  });

  it("turns DynamoDB refusing a start key into the same 400, should a forged key ever get past the schema", async () => {
    const out = await listEvents(stack.store, t.tenantId, { limit: 1, after: { sk: "", createdAt: "" } }).catch(
      (e: unknown) => e,
    );
    // DynamoDB (and dynalite, DynamoDB Local) refuse an empty key attribute; moto accepts it and finds nothing.
    if (inject("backend") === "moto") expect(out).toEqual({ items: [], nextCursor: null });
    else {
      expect(out).toBeInstanceOf(ProblemError);
      expect((out as ProblemError).status).toBe(400);
    }
  });
});
