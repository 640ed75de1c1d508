/**
 * Ordered delivery per key under faults (issue 24's randomized test): 20 keys × 25 events interleaved across 3
 * endpoints, receivers failing 30% of first attempts (500s, timeouts, 429s with Retry-After), two worker processes
 * of which one is SIGKILLed mid-run, and duplicate messages injected (with and without the key, as a redelivery or
 * the sweeper sends them, and copies of each key's first "head" messages). Per endpoint and key, the receiver sees the events in acceptance order with no gaps: once
 * event n has been POSTed, nothing earlier is; and every event is delivered. Also run on moto (npm run test:moto).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueDeliveries, type DeliveryMessage } from "../../services/aws/delivery-queue.ts";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startServiceProcess, type ServiceProcess } from "../support/processes.ts";
import { startReceiver, type ReceivedRequest, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

// On moto (about 5 deliveries/s here: DynamoDB served one request at a time) CI runs it smaller; ORDERING_FULL=1 runs the
// full size there too.
const moto = process.env.TEST_BACKEND === "moto" && !process.env.ORDERING_FULL;
const keys = moto ? 8 : 20;
const perKey = moto ? 10 : 25;

let stack: Stack;
const receivers: TestReceiver[] = [];
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  stack = await startStack({
    // Attempts enough that a first-attempt failure never kills a delivery.
    RETRY_SCHEDULE: "300ms,300ms,300ms,300ms,300ms",
    DELIVERY_TIMEOUT_MS: "1000",
    VISIBILITY_TIMEOUT_S: "6",
    SQS_WAIT_TIME_S: "1",
    // The sweeper has nothing to do here that its grace allows; its index queries are costly on moto.
    SWEEP_INTERVAL_MS: "10000",
  });
  for (let i = 0; i < 3; i++) receivers.push(await startReceiver());
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill("SIGKILL")));
  await stack.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function worker(): Promise<ServiceProcess> {
  // Each on a port of its own for its metrics.
  const w = await startServiceProcess("worker", { ...stack.env, METRICS_PORT: "0" });
  workers.push(w);
  return w;
}

/** A seeded generator: a failure is reproducible from the seed printed with it. */
function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const eventOf = (req: ReceivedRequest) => JSON.parse(req.body.toString("utf8")) as { key: number; n: number };

describe("ordering per key under faults", () => {
  it("keeps every key's order per endpoint through failures, a SIGKILLed worker and duplicate messages", async () => {
    const seed = Date.now() % 100_000;
    const random = seeded(seed);
    // Per receiver, the webhooks it answered with success in time: the run is over when each has all of them.
    const delivered = receivers.map(() => new Set<string>());
    for (const [i, r] of receivers.entries()) {
      const seen = new Set<string>();
      r.behave((req) => {
        const id = String(req.headers["webhook-id"]);
        const first = !seen.has(id);
        seen.add(id);
        const roll = first ? random() : 1;
        if (roll < 0.2) return { status: 500 };
        if (roll < 0.25) return { status: 200, delayMs: 1500 }; // past DELIVERY_TIMEOUT_MS: a timeout
        if (roll < 0.3) return { status: 429, headers: { "retry-after": "1" } };
        delivered[i]!.add(id);
        // Each POST takes a moment, so that the kill below finds some on their way.
        return { status: 200, body: "ok", delayMs: 20 };
      });
    }
    const tenant = await stack.createTenant(receivers.map((r) => ({ url: r.url })));
    const [doomed] = [await worker(), await worker()];

    // The keys' streams at once, each sending its events one after another: acceptance order is send order.
    const ids: string[][] = Array.from({ length: keys }, () => []);
    const duplicates = async (pick: () => string | undefined) => {
      const messages: DeliveryMessage[] = [];
      for (let i = 0; i < 30; i++) {
        const eventId = pick();
        if (!eventId) continue;
        const endpoint = tenant.endpoints[Math.floor(random() * 3)]!;
        const key = ids.findIndex((k) => k.includes(eventId));
        messages.push({
          tenantId: tenant.tenantId,
          eventId,
          endpointId: endpoint.endpointId,
          ...(i % 2 ? { orderingKey: `k${key}` } : {}),
        });
      }
      expect(await enqueueDeliveries(stack.queue, messages)).toEqual([]);
    };
    const anyId = () => ids.flat()[Math.floor(random() * ids.flat().length)];
    await Promise.all(
      ids.map(async (mine, key) => {
        for (let n = 0; n < perKey; n++) {
          const res = await postEvent(stack, tenant.apiKey, { type: "t", key, n }, { "ordering-key": `k${key}` });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          mine.push(res.body.event_id as string);
        }
      }),
    );
    await duplicates(anyId);
    // Copies of the messages that told each key's first event it was its lanes' head (true when sent, and ever after
    // unless requeued): as a redelivery of them would come.
    const heads = ids.flatMap((mine, key) =>
      tenant.endpoints.map((e) => ({
        tenantId: tenant.tenantId,
        eventId: mine[0]!,
        endpointId: e.endpointId,
        orderingKey: `k${key}`,
        head: true as const,
      })),
    );
    expect(await enqueueDeliveries(stack.queue, heads)).toEqual([]);

    const posts = () => receivers.reduce((sum, r) => sum + r.requests.length, 0);
    await eventually(() => posts() >= (keys * perKey * 3) / 3, { what: "a third of the POSTs", timeoutMs: 120_000 });
    await doomed.kill("SIGKILL");
    await duplicates(anyId);
    await worker();

    const all = ids.flat();
    // Watched at the receivers: reading 500 events over and over would slow a slow backend further.
    await eventually(() => delivered.every((d) => d.size === all.length), {
      what: `every event answered with success at each endpoint (seed ${seed})`,
      timeoutMs: 900_000,
      intervalMs: 500,
    });
    await eventually(
      async () => {
        // Listed a page of 100 at a time: reading each event is slow on moto.
        const listed = new Set<string>();
        let cursor: string | null = null;
        do {
          const res = await stack.http
            .get(`/v1/events?status=DELIVERED&limit=100${cursor ? `&cursor=${cursor}` : ""}`)
            .set("authorization", `Bearer ${tenant.apiKey}`);
          const body = res.body as { data: { event_id: string }[]; next_cursor: string | null };
          body.data.forEach((e) => listed.add(e.event_id));
          cursor = body.next_cursor;
        } while (cursor);
        return all.every((id) => listed.has(id));
      },
      { what: `all ${all.length} events recorded delivered (seed ${seed})`, timeoutMs: 60_000, intervalMs: 1000 },
    );

    for (const [e, r] of receivers.entries()) {
      for (let key = 0; key < keys; key++) {
        // The events POSTed for this key, in arrival order, repeats of one event folded.
        const seen = r.requests.map(eventOf).filter((x) => x.key === key);
        const folded = seen.map((x) => x.n).filter((n, i, all) => i === 0 || all[i - 1] !== n);
        expect(folded, `endpoint ${e}, key k${key} (seed ${seed})`).toEqual([...Array(perKey).keys()]);
      }
    }
  }, 1_080_000);
});
