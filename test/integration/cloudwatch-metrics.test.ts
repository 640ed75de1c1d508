/** The worker's Embedded Metric Format lines carry the deliveries it has open, as the scaling policy reads them. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { emfMetrics, emfNamespace, startCloudWatchMetrics } from "../../services/worker/cloudwatch-metrics.ts";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack({ DELIVERY_TIMEOUT_MS: "5000", VISIBILITY_TIMEOUT_S: "10" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

it("reports the deliveries in flight while they are open, and what was delivered once they are done", async () => {
  let release = false;
  receiver.behave(() => ({ status: 200, delayMs: release ? 0 : 2500 }));
  const tenant = await stack.createTenant([{ url: receiver.url }]);
  const worker = stack.startWorker();
  const lines: Record<string, unknown>[] = [];
  const emf = startCloudWatchMetrics({
    metrics: stack.workerMetrics,
    inFlight: () => worker.inFlight(),
    deployment: stack.config.TABLE_PREFIX,
    intervalMs: 100,
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  try {
    for (let i = 0; i < 5; i++) await postEvent(stack, tenant.apiKey, { type: "emf", i });
    await eventually(() => receiver.open() === 5, { what: "five POSTs open" });
    const during = await eventually(() => lines.find((l) => l[emfMetrics.inFlight] === 5), {
      what: "an EMF line with 5 in flight",
    });
    expect(during).toMatchObject({
      Deployment: stack.config.TABLE_PREFIX,
      _aws: { CloudWatchMetrics: [{ Namespace: emfNamespace, Dimensions: [["Deployment"]] }] },
    });
    release = true;
    await eventually(() => lines.at(-1)?.[emfMetrics.inFlight] === 0, { what: "in flight back to 0" });
    const delivered = lines.reduce((n, l) => n + Number(l[emfMetrics.delivered] ?? 0), 0);
    expect(delivered).toBe(5);
  } finally {
    await emf.stop();
  }
});
