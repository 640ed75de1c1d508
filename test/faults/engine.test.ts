/**
 * The delivery engine under faults: a worker killed or stopped with hundreds of deliveries in flight, a
 * circuit breaker on an endpoint that keeps failing, and a rate limit shared by two worker processes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startServiceProcess, type ServiceProcess } from "../support/processes.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
const workers: ServiceProcess[] = [];
const admin = () => `Bearer ${stack.adminToken}`;

beforeAll(async () => {
  stack = await startStack({
    RETRY_SCHEDULE: "1s,1s,1s,1s,1s,1s",
    // Generous, so a POST answered within 4 s does not time out on a busy machine (a timeout is a retry: a POST).
    DELIVERY_TIMEOUT_MS: "15000",
    VISIBILITY_TIMEOUT_S: "20",
    SQS_WAIT_TIME_S: "1",
    // One tenant may fill the worker here: these tests are about one endpoint under load.
    TENANT_MAX_IN_FLIGHT: "1000",
    ENDPOINT_MAX_IN_FLIGHT: "1000",
    BREAKER_FAILURES: "3",
    BREAKER_COOLDOWN: "2s",
  });
  receiver = await startReceiver();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill("SIGKILL")));
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

async function worker(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const w = await startServiceProcess("worker", { ...stack.env, METRICS_PORT: "0", ...env });
  workers.push(w);
  return w;
}

async function postMany(t: CreatedTenant, n: number, type: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, j) => postEvent(stack, t.apiKey, { type, i: i + j })),
    );
    ids.push(...batch.map((r) => String(r.body.event_id)));
  }
  return ids;
}

const allDelivered = (t: CreatedTenant, ids: string[]) => async () =>
  (await Promise.all(ids.map(async (id) => (await getEvent(stack, t.apiKey, id)).status))).every(
    (s) => s === "DELIVERED",
  );

/** How many times each webhook-id reached the receiver. */
function postsPerWebhook(url: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of receiver.requests.filter((q) => q.url.endsWith(url))) {
    const id = String(r.headers["webhook-id"]);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe("a worker with hundreds of deliveries in flight", () => {
  const count = 300;

  // Both wait for POSTs *received* (a count that only grows), not for hundreds open at once: how many are open at
  // a moment depends on the machine's speed, and a busy machine may never get there.
  it("SIGKILL: nothing is lost, and a delivery is POSTed again only if its first POST started and its success was not recorded", async () => {
    // Answers spread over 1–4 s, so at the kill some POSTs are answered and recorded, some answered and not yet
    // recorded, and some still open.
    receiver.behave((_req, n) => ({ status: 200, delayMs: 1000 + (n % 10) * 300 }));
    const t = await stack.createTenant([{ url: `${receiver.url}?kill` }]);
    const ids = await postMany(t, count, "kill");
    const first = await worker();
    const received = () => receiver.requests.filter((r) => r.url.endsWith("?kill")).length;
    await eventually(() => received() >= 250 && received() - receiver.open() >= 50, {
      what: "250 POSTs received and 50 answered",
      timeoutMs: 120_000,
    });
    await first.kill("SIGKILL");
    const killedAt = Date.now();
    // What the store says once the worker is dead: the successes it recorded.
    const atKill = await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)));
    const recorded = new Set(
      atKill.flatMap((v) => v.deliveries.filter((d) => d.status === "DELIVERED").map((d) => d.webhook_id)),
    );
    const startedBeforeKill = new Set(
      receiver.requests.filter((r) => r.url.endsWith("?kill") && r.at <= killedAt).map((r) => r.headers["webhook-id"]),
    );
    // What the killed worker left leased comes back when its leases and the messages' visibility lapse.
    await worker();
    await eventually(allDelivered(t, ids), { what: "every event delivered after the kill", timeoutMs: 90_000 });
    const posts = postsPerWebhook("?kill");
    expect(posts.size).toBe(count);
    // Every POST is an attempt the store counts (a lease is taken before each POST; the one a kill cut short counts
    // too), so no delivery was POSTed more often than its attempts say; and a repeat is only of a delivery whose
    // first POST started before the kill and whose success was not recorded then.
    const attempts = new Map(
      (await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)))).map((v) => [
        v.deliveries[0]!.webhook_id,
        v.deliveries[0]!.attempts,
      ]),
    );
    for (const [id, n] of posts) expect(n, `${id}: POSTs against attempts`).toBeLessThanOrEqual(attempts.get(id)!);
    const repeated = [...posts].filter(([, n]) => n > 1);
    for (const [id] of repeated) {
      expect(startedBeforeKill.has(id), `${id} was POSTed before the kill`).toBe(true);
      expect(recorded.has(id), `${id} was not recorded delivered at the kill`).toBe(false);
    }
    process.stdout.write(
      `SIGKILL: ${startedBeforeKill.size} POSTs started before the kill, ${recorded.size} recorded delivered, ` +
        `${repeated.length} POSTed again\n`,
    );
  }, 240_000);

  it("SIGTERM: the deliveries in flight finish and are recorded, the rest go to the next worker, none twice", async () => {
    receiver.requests.length = 0;
    receiver.behave(() => ({ status: 200, delayMs: 2000 }));
    const t = await stack.createTenant([{ url: `${receiver.url}?drain` }]);
    const ids = await postMany(t, count + 100, "drain");
    const w = await worker({ WORKER_CONCURRENCY: String(count) });
    await eventually(() => receiver.requests.length >= 250, { what: "250 POSTs received", timeoutMs: 120_000 });
    const exited = new Promise<number | null>((resolve) => w.child.once("exit", (code) => resolve(code)));
    w.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const started = receiver.requests.length;
    expect(started).toBeGreaterThanOrEqual(250);
    const views = await Promise.all(ids.map((id) => getEvent(stack, t.apiKey, id)));
    expect(views.filter((v) => v.status === "DELIVERED")).toHaveLength(started);
    for (const v of views.filter((x) => x.status !== "DELIVERED")) expect(v.deliveries[0]!.attempts).toBe(0);
    await worker();
    await eventually(allDelivered(t, ids), { what: "the rest delivered", timeoutMs: 90_000 });
    const posts = postsPerWebhook("?drain");
    expect(posts.size).toBe(ids.length);
    expect([...posts.values()].every((n) => n === 1)).toBe(true);
  }, 240_000);
});

describe("an endpoint that keeps failing", () => {
  it("opens its circuit, defers deliveries without spending attempts, probes one at a time, and closes when it recovers", async () => {
    const w = stack.startWorker();
    try {
      receiver.requests.length = 0;
      receiver.behave(() => ({ status: 503 }));
      const created = await stack.http
        .post("/admin/tenants")
        .set("authorization", admin())
        .send({ name: "breaker", endpoints: [{ url: `${receiver.url}?breaker`, max_in_flight: 1 }] });
      const t = { apiKey: created.body.api_key as string, tenantId: created.body.tenant_id as string };
      const endpointId = created.body.endpoints[0].endpoint_id as string;
      type View = { circuit: { state: string; reason: string; next_probe_at: string } };
      const endpoint = async () =>
        (await stack.http.get(`/v1/endpoints/${endpointId}`).set("authorization", `Bearer ${t.apiKey}`)).body as View;
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await postEvent(stack, t.apiKey, { type: "breaker", i })).body.event_id);

      // Three failures in a row (BREAKER_FAILURES below) open it; then one probe after the 2 s cooldown.
      await eventually(async () => (await endpoint()).circuit.state === "open", { what: "the circuit open" });
      expect((await endpoint()).circuit.reason).toContain("HTTP 503");
      await eventually(() => receiver.requests.length === 4, {
        what: "one probe after the cooldown",
        timeoutMs: 10_000,
      });
      // The failed probe reopened it, for longer: the next probe is ahead again.
      await eventually(
        async () => {
          const { circuit } = await endpoint();
          return circuit.state === "open" && Date.parse(circuit.next_probe_at) > Date.now();
        },
        { what: "the circuit reopened after the failed probe" },
      );
      // Deferred deliveries spent no attempt: only the three that tripped it and the probe did.
      const attempts = await Promise.all(
        ids.map(async (id) => (await getEvent(stack, t.apiKey, id)).deliveries[0]!.attempts),
      );
      expect(attempts.reduce((a, b) => a + b, 0)).toBe(4);

      receiver.behave(() => ({ status: 200 }));
      await eventually(
        async () =>
          (await Promise.all(ids.map(async (id) => (await getEvent(stack, t.apiKey, id)).status))).every(
            (s) => s === "DELIVERED",
          ),
        {
          what: "everything delivered after the circuit closed",
          timeoutMs: 20_000,
        },
      );
      expect((await endpoint()).circuit.state).toBe("closed");
      expect(receiver.requests.filter((r) => r.url.endsWith("?breaker"))).toHaveLength(14);
    } finally {
      await w.stop();
    }
  }, 40_000);
});

describe("an endpoint's rate limit", () => {
  it("holds across two worker processes", async () => {
    receiver.requests.length = 0;
    receiver.behave(() => ({ status: 200 }));
    const created = await stack.http
      .post("/admin/tenants")
      .set("authorization", admin())
      .send({ name: "rate", endpoints: [{ url: `${receiver.url}?rate`, rate_limit: 5 }] });
    const t = { apiKey: created.body.api_key as string, tenantId: created.body.tenant_id as string, endpoints: [] };
    const ids = await postMany(t, 40, "rate");
    const startedAt = Date.now();
    await Promise.all([worker(), worker()]);
    await eventually(allDelivered(t, ids), { what: "all 40 delivered", timeoutMs: 40_000 });
    const at = receiver.requests
      .filter((r) => r.url.endsWith("?rate"))
      .map((r) => r.at)
      .sort((a, b) => a - b);
    expect(at).toHaveLength(40);
    // The schedule allows a burst of 5, then one turn every 200 ms, whichever worker takes it. A POST arrives at
    // its turn or later (never earlier, however busy the machine), so the j-th arrival is at least (j − 4) × 200 ms
    // after the workers started: never faster than the limit.
    for (const [j, x] of at.entries()) expect(x - startedAt).toBeGreaterThanOrEqual((j - 4) * 200);
    const rate = (at.length - 5) / ((at.at(-1)! - startedAt) / 1000);
    process.stdout.write(`rate limit 5/s over two workers: ${at.length} deliveries, ${rate.toFixed(2)}/s overall\n`);
  }, 60_000);
});
