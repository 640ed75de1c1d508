/**
 * Ordered delivery per key (issue 24), end to end on the emulators: a receiver that fails first attempts, answers
 * 429 with Retry-After, and duplicate messages injected; two workers. Per endpoint and key, every POST of an event
 * comes after its predecessor's successful POST.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startReceiver, type ReceivedRequest, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "1s,1s,1s,1s", DELIVERY_TIMEOUT_MS: "2000" });
  stack.startWorker();
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver() {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const seqOf = (req: ReceivedRequest) => JSON.parse(req.body.toString("utf8")) as { key: string; n: number };

/** For each key: no POST of event n+1 before event n's successful POST (index order of arrival). */
function checkOrder(requests: readonly ReceivedRequest[], ok: (i: number) => boolean, keys: number, perKey: number) {
  for (let k = 0; k < keys; k++) {
    const mine = requests.map((r, i) => ({ ...seqOf(r), i })).filter((r) => r.key === `k${k}`);
    for (let n = 1; n < perKey; n++) {
      const firstNext = mine.find((r) => r.n === n)?.i;
      const success = mine.find((r) => r.n === n - 1 && ok(r.i))?.i;
      expect(success, `key k${k}: event ${n - 1} delivered`).toBeDefined();
      expect(firstNext, `key k${k}: event ${n} sent`).toBeDefined();
      expect(firstNext!, `key k${k}: event ${n} only after ${n - 1} was delivered`).toBeGreaterThan(success!);
    }
  }
}

describe("ordering per key", () => {
  it("refuses a bad Ordering-Key with a 422 naming the header", async () => {
    const r = await receiver();
    const tenant = await stack.createTenant([{ url: r.url }]);
    const problem = expectProblem(await postEvent(stack, tenant.apiKey, {}, { "ordering-key": "x".repeat(129) }), 422);
    expect(problem.errors).toEqual([{ path: "Ordering-Key", message: expect.any(String) }]);
  });

  it("delivers each key's events in acceptance order per endpoint through failures, 429s and duplicates", async () => {
    const [a, b] = [await receiver(), await receiver()];
    const outcomes = new Map<TestReceiver, boolean[]>([
      [a, []],
      [b, []],
    ]);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const r of [a, b]) {
      const seen = new Set<string>();
      r.behave((req) => {
        const id = String(req.headers["webhook-id"]);
        const first = !seen.has(id);
        seen.add(id);
        const roll = random();
        const fail = first && roll < 0.3;
        const throttle = !fail && first && roll < 0.4;
        outcomes.get(r)!.push(!fail && !throttle);
        if (throttle) return { status: 429, headers: { "retry-after": "1" } };
        return fail ? { status: 500 } : { status: 200, body: "ok" };
      });
    }
    const tenant = await stack.createTenant([{ url: a.url }, { url: b.url }]);
    const keys = 5;
    const perKey = 6;
    const ids: string[] = [];
    for (let n = 0; n < perKey; n++) {
      for (let k = 0; k < keys; k++) {
        const res = await postEvent(stack, tenant.apiKey, { type: "t", key: `k${k}`, n }, { "ordering-key": `k${k}` });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        ids.push(res.body.event_id as string);
      }
    }
    // Duplicate messages for a third of the deliveries, as a redelivery or the sweeper would send; and for each key's
    // first event, copies of its head's message (it was the head when accepted).
    const copies = [
      ...ids.filter((_, i) => i % 3 === 0).map((eventId) => ({ eventId })),
      ...ids.slice(0, keys).map((eventId, k) => ({ eventId, orderingKey: `k${k}`, head: true as const })),
    ];
    const dupes = copies.flatMap((m) =>
      tenant.endpoints.map((e) => ({ tenantId: tenant.tenantId, endpointId: e.endpointId, ...m })),
    );
    expect(await enqueueDeliveries(stack.queue, dupes)).toEqual([]);

    for (const eventId of ids) {
      await eventually(async () => (await getEvent(stack, tenant.apiKey, eventId)).status === "DELIVERED", {
        timeoutMs: 90_000,
        what: `event ${eventId} delivered`,
      });
    }
    for (const r of [a, b]) checkOrder(r.requests, (i) => outcomes.get(r)![i]!, keys, perKey);
    const last = await getEvent(stack, tenant.apiKey, ids.at(-1)!);
    expect(last).toMatchObject({ ordering_key: `k${keys - 1}` });
  }, 180_000);

  it("block_on_dead holds the key behind a dead event until it is skipped; release_on_dead lets the next go", async () => {
    const r = await receiver();
    r.behave((req) => (seqOf(req).n === 0 ? { status: 500 } : { status: 200, body: "ok" }));
    const tenant = await stack.createTenant([{ url: r.url }, { url: r.url }]);
    const [blocking, releasing] = tenant.endpoints.map((e) => e.endpointId) as [string, string];
    const patched = await stack.http
      .patch(`/v1/endpoints/${blocking}`)
      .set("authorization", `Bearer ${tenant.apiKey}`)
      .send({ ordering: "block_on_dead" });
    expect(patched.body.ordering).toBe("block_on_dead");

    const post = async (n: number) =>
      (await postEvent(stack, tenant.apiKey, { type: "t", key: "kb", n }, { "ordering-key": "kb" })).body
        .event_id as string;
    const first = await post(0);
    const second = await post(1);
    const deliveryOf = async (eventId: string, endpointId: string) =>
      (await getEvent(stack, tenant.apiKey, eventId)).deliveries.find((d) => d.endpoint_id === endpointId)!;

    // Released: the second reaches the releasing endpoint once the first is dead there.
    await eventually(async () => (await deliveryOf(second, releasing)).status === "DELIVERED", { timeoutMs: 30_000 });
    expect((await deliveryOf(first, releasing)).status).toBe("DEAD");
    // Its timeline says what it waited for.
    expect((await deliveryOf(second, releasing)) as unknown).toMatchObject({ ordering: { waited_for: first } });
    // Blocked: the first is dead at the blocking endpoint and the second waits behind it.
    await eventually(async () => (await deliveryOf(first, blocking)).status === "DEAD", { timeoutMs: 30_000 });
    const keysRes = await stack.http
      .get(`/v1/endpoints/${blocking}/ordering-keys`)
      .set("authorization", `Bearer ${tenant.apiKey}`);
    expect(keysRes.body.data).toEqual([
      { ordering_key: "kb", waiting: 2, head_event_id: first, reason: "dead", since: expect.any(String) },
    ]);
    expect((await deliveryOf(second, blocking)).status).toBe("PENDING");
    const view = await stack.http.get(`/v1/events/${second}`).set("authorization", `Bearer ${tenant.apiKey}`);
    const waiting = (view.body.deliveries as { endpoint_id: string; ordering: unknown }[]).find(
      (d) => d.endpoint_id === blocking,
    );
    expect(waiting?.ordering).toMatchObject({ position: 1, waiting_for: first });

    // Keys and endpoints: another key flows at the endpoint where kb is blocked.
    const other = (await postEvent(stack, tenant.apiKey, { type: "t", key: "ko", n: 1 }, { "ordering-key": "ko" })).body
      .event_id as string;
    await eventually(async () => (await getEvent(stack, tenant.apiKey, other)).status === "DELIVERED", {
      what: "another key delivered while kb is blocked",
    });
    expect((await deliveryOf(second, blocking)).status).toBe("PENDING");

    const skipped = await stack.http
      .post(`/v1/endpoints/${blocking}/ordering-keys/kb/skip`)
      .set("authorization", `Bearer ${tenant.apiKey}`);
    expect(skipped.status).toBe(200);
    expect(skipped.body).toEqual({ ordering_key: "kb", skipped_event_id: first, next_event_id: second });
    await eventually(async () => (await deliveryOf(second, blocking)).status === "DELIVERED", { timeoutMs: 30_000 });
    const again = await stack.http
      .post(`/v1/endpoints/${blocking}/ordering-keys/kb/skip`)
      .set("authorization", `Bearer ${tenant.apiKey}`);
    expectProblem(again, 404);
  }, 120_000);

  it("trusts a message's word that its delivery is the head only while the delivery was never requeued", async () => {
    // A dead head (its message said "head", true then) is requeued behind the key's new head, which is dead and
    // blocks. A stale copy of its old message must not let it pass: it takes its turn from the lane and waits.
    const r = await receiver();
    let firstFixed = false;
    r.behave((req) => {
      const { n } = seqOf(req);
      return (n === 0 && !firstFixed) || n === 2 ? { status: 500 } : { status: 200, body: "ok" };
    });
    const tenant = await stack.createTenant([{ url: r.url }]);
    const { endpointId } = tenant.endpoints[0]!;
    const auth = `Bearer ${tenant.apiKey}`;
    await stack.http
      .patch(`/v1/endpoints/${endpointId}`)
      .set("authorization", auth)
      .send({ ordering: "block_on_dead" });
    const post = async (n: number) =>
      (await postEvent(stack, tenant.apiKey, { type: "t", key: "kh", n }, { "ordering-key": "kh" })).body
        .event_id as string;
    const status = async (eventId: string) => (await getEvent(stack, tenant.apiKey, eventId)).status;
    const skip = () => stack.http.post(`/v1/endpoints/${endpointId}/ordering-keys/kh/skip`).set("authorization", auth);

    const first = await post(0);
    const second = await post(1);
    const third = await post(2);
    await eventually(async () => (await status(first)) === "DEAD", { timeoutMs: 30_000, what: "first dead" });
    expect((await skip()).body).toMatchObject({ skipped_event_id: first, next_event_id: second });
    await eventually(async () => (await status(third)) === "DEAD", { timeoutMs: 30_000, what: "third dead" });
    expect(await status(second)).toBe("DELIVERED");

    firstFixed = true;
    const retried = await stack.http.post(`/v1/events/${first}/retry`).set("authorization", auth);
    expect(retried.body).toMatchObject({ requeued: [endpointId] });
    const before = r.requests.length;
    const stale = { tenantId: tenant.tenantId, eventId: first, endpointId, orderingKey: "kh", head: true as const };
    expect(await enqueueDeliveries(stack.queue, [stale])).toEqual([]);
    const waitedFor = async () =>
      ((await getEvent(stack, tenant.apiKey, first)).deliveries[0] as { ordering?: { waited_for: string | null } })
        .ordering?.waited_for;
    await eventually(async () => (await waitedFor()) === third, { what: "the requeued event parked behind the third" });
    expect(r.requests.length, "no POST while the dead third holds the key").toBe(before);

    expect((await skip()).body).toMatchObject({ skipped_event_id: third, next_event_id: first });
    await eventually(async () => (await status(first)) === "DELIVERED", { timeoutMs: 30_000, what: "first delivered" });
    expect(r.requests.slice(before).map((q) => seqOf(q).n)).toEqual([0]);
  }, 120_000);

  it("recovers deliveries skipped while the endpoint was disabled in acceptance order, in either mode", async () => {
    const r = await receiver();
    const tenant = await stack.createTenant([{ url: `${r.url}?release` }, { url: `${r.url}?block` }]);
    const auth = `Bearer ${tenant.apiKey}`;
    const ids = tenant.endpoints.map((e) => e.endpointId);
    for (const [i, id] of ids.entries()) {
      const mode = i ? "block_on_dead" : "release_on_dead";
      await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ enabled: false, ordering: mode });
    }
    const since = new Date().toISOString();
    const events: string[] = [];
    for (let n = 0; n < 4; n++) {
      const res = await postEvent(stack, tenant.apiKey, { type: "t", key: "kd", n }, { "ordering-key": "kd" });
      events.push(res.body.event_id as string);
    }
    // One endpoint after the other: recover finds an event once no delivery of it is pending.
    for (const id of ids) {
      await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ enabled: true });
      const res = await stack.http.post(`/v1/endpoints/${id}/recover`).set("authorization", auth).send({ since });
      expect(res.body).toMatchObject({ requeued: 4 });
      for (const eventId of events) {
        await eventually(async () => (await getEvent(stack, tenant.apiKey, eventId)).status !== "PENDING", {
          timeoutMs: 30_000,
          what: `event ${eventId} delivered at ${id}`,
        });
      }
    }
    for (const id of events) expect((await getEvent(stack, tenant.apiKey, id)).status).toBe("DELIVERED");
    for (const mode of ["release", "block"]) {
      const seen = r.requests.filter((q) => q.url.endsWith(`?${mode}`)).map((q) => seqOf(q).n);
      expect(seen, mode).toEqual([0, 1, 2, 3]);
    }
  }, 90_000);
});
