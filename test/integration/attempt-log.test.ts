/**
 * Reads that cannot grow without bound: an event read carries the newest 5 attempts of each delivery, however
 * many retries and requeues added, and the rest of a delivery's attempt log is read a page at a time, newest
 * first, under both mounts of the event routes; what a receiver answered is stored and returned within a byte budget
 * measured as JSON sends it.
 */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptLog } from "../../services/aws/events/delivery-ops.ts";
import { attemptSk } from "../../services/aws/events/store.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let t: CreatedTenant;
let eventId: string;
let endpointId: string;

beforeAll(async () => {
  stack = await startStack();
  // No worker: the delivery's history is written here, 45 attempts of it, as years of retries would leave it.
  t = await stack.createTenant([{ url: "http://127.0.0.1:9/many" }]);
  endpointId = t.endpoints[0]!.endpointId;
  eventId = (await postEvent(stack, t.apiKey, { type: "long.story" })).body.event_id as string;
  const record = attemptLog(stack.store);
  const at = Date.now();
  await Promise.all(
    Array.from({ length: 45 }, (_, i) =>
      record(t.tenantId, {
        eventId,
        endpointId,
        attempt: i + 1,
        at: at + i,
        durationMs: 3,
        statusCode: 500,
        error: "HTTP 500",
        responseExcerpt: "x".repeat(4096),
      }),
    ),
  );
});
afterAll(() => stack.close());

type Page = { data: { attempt: number }[]; next_cursor: string | null };

describe("the attempt log", () => {
  it("an event read carries the newest 5 attempts of a delivery, in order, and a cursor to the earlier ones", async () => {
    const d = (await getEvent(stack, t.apiKey, eventId)).deliveries[0]! as {
      attempt_log: { attempt: number }[];
      earlier_attempts_cursor?: string | null;
    };
    expect(d.attempt_log.map((a) => a.attempt)).toEqual(Array.from({ length: 5 }, (_, i) => 41 + i));
    expect(d.earlier_attempts_cursor).toEqual(expect.any(String));
  });

  it("pages the rest, newest first, from the event's cursor or from the start, under /v1 and /admin alike", async () => {
    const d = (await getEvent(stack, t.apiKey, eventId)).deliveries[0]! as unknown as {
      earlier_attempts_cursor: string;
    };
    for (const [base, auth] of [
      [`/v1/events/${eventId}`, t.apiKey],
      [`/admin/tenants/${t.tenantId}/events/${eventId}`, stack.adminToken],
    ] as const) {
      const read = async (query: string) => {
        const res = await stack.http
          .get(`${base}/deliveries/${endpointId}/attempts?${query}`)
          .set("authorization", `Bearer ${auth}`);
        expect(res.status, res.text).toBe(200);
        return res.body as Page;
      };
      const earlier = await read(`limit=30&cursor=${d.earlier_attempts_cursor}`);
      expect(earlier.data.map((a) => a.attempt)).toEqual(Array.from({ length: 30 }, (_, i) => 40 - i));
      const oldest = await read(`limit=15&cursor=${earlier.next_cursor}`);
      expect(oldest.data.map((a) => a.attempt)).toEqual(Array.from({ length: 10 }, (_, i) => 10 - i));
      expect(oldest.next_cursor).toBeNull();
      const first = await read("");
      expect(first.data.map((a) => a.attempt)).toEqual(Array.from({ length: 20 }, (_, i) => 45 - i));
    }
  });

  it("answers 404 for another tenant's delivery or an unknown one, 400 for a cursor it did not give out", async () => {
    const other = await stack.createTenant([]);
    const path = `/v1/events/${eventId}/deliveries/${endpointId}/attempts`;
    expectProblem(await stack.http.get(path).set("authorization", `Bearer ${other.apiKey}`), 404);
    expectProblem(
      await stack.http
        .get(`/v1/events/${eventId}/deliveries/ep_00000000000000000000000000/attempts`)
        .set("authorization", `Bearer ${t.apiKey}`),
      404,
    );
    expectProblem(await stack.http.get(`${path}?cursor=nope`).set("authorization", `Bearer ${t.apiKey}`), 400);
    expectProblem(await stack.http.get(`${path}?limit=500`).set("authorization", `Bearer ${t.apiKey}`), 422);
  });
});

/** The size of a string as JSON sends it (a control byte is six). */
const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2;

describe("the worst event read", () => {
  it("stays within its budget: 50 endpoints x 20 attempts, each answered with 4 KiB of control bytes", async () => {
    const wide = await stack.createTenant(
      Array.from({ length: 50 }, (_, i) => ({ url: `http://127.0.0.1:9/wide-${i}` })),
    );
    const id = (await postEvent(stack, wide.apiKey, { type: "wide" })).body.event_id as string;
    const record = attemptLog(stack.store);
    const controls = "\u0001".repeat(4096);
    const at = Date.now();
    // Through the store operation the worker records attempts with.
    await Promise.all(
      wide.endpoints.flatMap((e) =>
        Array.from({ length: 20 }, (_, i) =>
          record(wide.tenantId, {
            eventId: id,
            endpointId: e.endpointId,
            attempt: i + 1,
            at: at + i,
            durationMs: 3,
            statusCode: 400,
            error: "HTTP 400",
            responseExcerpt: controls,
          }),
        ),
      ),
    );
    // Before the budget: 24.7 MB of JSON (20 attempts x 24 KiB of escapes, for each of the 50 deliveries).
    const res = await stack.http.get(`/v1/events/${id}`).set("authorization", `Bearer ${wide.apiKey}`);
    expect(res.status).toBe(200);
    const body = res.body as { deliveries: { attempt_log: { response_excerpt: string }[] }[] };
    expect(body.deliveries).toHaveLength(50);
    for (const d of body.deliveries) {
      expect(d.attempt_log.length).toBeLessThanOrEqual(5);
      for (const a of d.attempt_log) expect(jsonBytes(a.response_excerpt)).toBeLessThanOrEqual(4096);
    }
    expect(Buffer.byteLength(res.text)).toBeLessThan(1.5 * 1024 * 1024);

    // Stored within the budget too, not only cut on the way out.
    const { Item } = await stack.clients.ddb.send(
      new GetCommand({
        TableName: stack.store.table,
        Key: { tenantId: wide.tenantId, sk: attemptSk(id, wide.endpoints[0]!.endpointId, 1) },
      }),
    );
    expect(jsonBytes(Item!.responseExcerpt as string)).toBeLessThanOrEqual(4096);
  });

  it("returns a record stored before the budget within it", async () => {
    const endpoint = t.endpoints[0]!.endpointId;
    await stack.clients.ddb.send(
      new PutCommand({
        TableName: stack.store.table,
        Item: {
          tenantId: t.tenantId,
          sk: attemptSk(eventId, endpoint, 46),
          eventId,
          endpointId: endpoint,
          attempt: 46,
          at: Date.now(),
          durationMs: 1,
          statusCode: 400,
          error: "\u0002".repeat(4096),
          responseExcerpt: "\u0001".repeat(4096),
        },
      }),
    );
    const page = await stack.http
      .get(`/v1/events/${eventId}/deliveries/${endpoint}/attempts?limit=1`)
      .set("authorization", `Bearer ${t.apiKey}`);
    const newest = (page.body as { data: { attempt: number; response_excerpt: string; error: string }[] }).data[0]!;
    expect(newest.attempt).toBe(46);
    expect(jsonBytes(newest.response_excerpt)).toBeLessThanOrEqual(4096);
    expect(newest.response_excerpt.length).toBeGreaterThan(600);
    expect(jsonBytes(newest.error)).toBeLessThanOrEqual(512);
  });
});
