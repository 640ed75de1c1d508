/**
 * The delivery figures an SLO and the console's charts rest on, from a real worker against the emulators: the
 * Prometheus histograms (acceptance to first attempt, to success), the per-minute counts and queue depths behind
 * GET /admin/stats/history, and the EMF line CloudWatch makes the SLO alarm's metrics from.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstAttemptSloS } from "../../services/core/delivery-figures.ts";
import { startCloudWatchMetrics } from "../../services/worker/cloudwatch-metrics.ts";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "1s" });
  receiver = await startReceiver();
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

interface Point {
  at: string;
  delivered: number;
  failed: number;
  dead: number;
  first_attempt_p50_s: number | null;
  first_attempt_p95_s: number | null;
  queue: { visible: number; in_flight: number; delayed: number } | null;
  dlq: number | null;
}
const history = async (window: "hour" | "day") =>
  (await stack.http.get(`/admin/stats/history?window=${window}`).set("authorization", `Bearer ${stack.adminToken}`))
    .body as { step_seconds: number; points: Point[] };
const total = (points: Point[], key: "delivered" | "failed") => points.reduce((n, p) => n + p[key], 0);

describe("delivery figures", () => {
  it("counts a delivery that failed once and then succeeded, with its first-attempt latency, per minute and per 10 minutes", async () => {
    const tenant = await stack.createTenant([{ url: receiver.url }]);
    receiver.behave((_req, n) => ({ status: n === 1 ? 503 : 200 }));
    stack.startWorker();
    expect((await postEvent(stack, tenant.apiKey, { type: "order.paid" })).status).toBe(201);

    const hour = await eventually(
      async () => {
        const h = await history("hour");
        return total(h.points, "delivered") === 1 && h.points.some((p) => p.queue !== null) && h;
      },
      { what: "the figures recorded", timeoutMs: 20_000 },
    );
    expect(hour.step_seconds).toBe(60);
    expect(hour.points).toHaveLength(60);
    expect(total(hour.points, "failed")).toBe(1);
    const first = hour.points.find((p) => p.first_attempt_p50_s !== null)!;
    // Delivered within a second or two of acceptance: the first bucket or two.
    expect(first.first_attempt_p50_s).toBeLessThanOrEqual(firstAttemptSloS);
    expect(first.first_attempt_p95_s).toBeGreaterThanOrEqual(first.first_attempt_p50_s!);
    expect(hour.points.some((p) => p.dlq === 0 && p.queue !== null)).toBe(true);

    const day = await history("day");
    expect(day.step_seconds).toBe(600);
    expect(day.points).toHaveLength(144);
    expect([total(day.points, "delivered"), total(day.points, "failed")]).toEqual([1, 1]);
  });

  it("observes the SLO histograms and writes the first attempts as an EMF line", async () => {
    const text = await stack.workerMetrics.registry.metrics();
    expect(text).toMatch(/webhooks_delivery_first_attempt_seconds_count\{service="worker"\} 1\n/);
    expect(text).toMatch(/webhooks_delivery_first_attempt_seconds_bucket\{le="30",service="worker"\} 1\n/);
    expect(text).toMatch(/webhooks_delivery_success_seconds_count\{service="worker"\} 1\n/);
    // The worker's EMF line (as CloudWatch turns it into the SLO alarm's metrics) counts that first attempt, on time.
    const lines: Record<string, unknown>[] = [];
    const emf = startCloudWatchMetrics({
      metrics: stack.workerMetrics,
      inFlight: () => 0,
      deployment: "figures",
      intervalMs: 60_000,
      write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    });
    await emf.stop();
    expect(lines[0]).toMatchObject({ Deployment: "figures", FirstAttempts: 1, FirstAttemptsLate: 0 });
    const names = (
      lines[0]!._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }
    ).CloudWatchMetrics[0]!.Metrics.map((m) => m.Name);
    expect(names).toEqual(expect.arrayContaining(["FirstAttempts", "FirstAttemptsLate"]));
  });
});
