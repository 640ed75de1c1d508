/**
 * The worker's figures for CloudWatch, as Embedded Metric Format lines on stdout: in ECS the awslogs driver
 * ships them and CloudWatch Logs turns them into metrics, with no API call and no IAM permission (PutMetricData
 * would need both, and a call per interval per task). The scaling policy and the alarms read these.
 */
import type { Counter, Histogram } from "prom-client";
import { firstAttemptSloS } from "../core/delivery-figures.ts";
import type { Metrics } from "../metrics.ts";

export const emfNamespace = "WebhookPlatform";

/** The metric names, as the CDK stack reads them. */
export const emfMetrics = {
  /** Deliveries a task is working on now (a gauge: the scaling policy averages it over tasks). */
  inFlight: "DeliveriesInFlight",
  /** How long the most overdue unsettled delivery has been due (the sweeper's view; 0 when none). */
  oldestOverdue: "OldestOverdueSeconds",
  /** Attempts that delivered, that failed, and deliveries that went to the DLQ, in the interval. */
  delivered: "DeliveriesDelivered",
  failed: "AttemptsFailed",
  deadLettered: "DeliveriesDeadLettered",
  /** Deliveries put back for later without an attempt (caps, pauses, circuits, rate limits), in the interval. */
  deferred: "DeliveriesDeferred",
  /** First attempts in the interval, and those later than the SLO's line after acceptance (the SLO alarm's figures). */
  firstAttempts: "FirstAttempts",
  firstAttemptsLate: "FirstAttemptsLate",
} as const;

/** Every metric line carries this one dimension: the deployment (its table prefix), so stacks never mix. */
export const emfDimension = "Deployment";

async function total<L extends string>(
  counter: Counter<L>,
  where?: (labels: Partial<Record<L, string | number>>) => boolean,
): Promise<number> {
  return (await counter.get()).values.filter((v) => !where || where(v.labels)).reduce((n, v) => n + v.value, 0);
}

/** How many observations a histogram holds, and how many of them were above `bound` (one of its buckets). */
async function countAbove(histogram: Histogram, bound: number): Promise<{ all: number; above: number }> {
  const values = (await histogram.get()).values;
  const bucket = (le: number | string) =>
    values.find((v) => v.metricName?.endsWith("_bucket") && v.labels.le === le)?.value ?? 0;
  const all = bucket("+Inf");
  return { all, above: all - bucket(bound) };
}

/** One EMF line: gauges as they are now, counters as what they added since the previous line. */
export function emfLine(deployment: string, values: Readonly<Record<string, number>>, at: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        {
          Namespace: emfNamespace,
          Dimensions: [[emfDimension]],
          Metrics: Object.keys(values).map((Name) => ({
            Name,
            Unit: Name === emfMetrics.oldestOverdue ? "Seconds" : "Count",
          })),
        },
      ],
    },
    [emfDimension]: deployment,
    ...values,
  });
}

/** Writes an EMF line every `intervalMs` until stopped (and one last line on stop). */
export function startCloudWatchMetrics(o: {
  metrics: Metrics;
  inFlight: () => number;
  deployment: string;
  intervalMs?: number;
  write?: (line: string) => void;
  now?: () => number;
}) {
  const write = o.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = o.now ?? Date.now;
  let last = { delivered: 0, failed: 0, dead: 0, deferred: 0, firstAttempts: 0, late: 0 };
  const emit = async () => {
    const current = {
      delivered: await total(o.metrics.deliveries, (l) => l.outcome === "delivered"),
      failed: await total(o.metrics.deliveries, (l) => l.outcome !== "delivered"),
      dead: await total(o.metrics.deadLettered),
      deferred: await total(o.metrics.deliveriesDeferred),
      ...(await countAbove(o.metrics.firstAttemptSeconds, firstAttemptSloS).then(({ all, above }) => ({
        firstAttempts: all,
        late: above,
      }))),
    };
    const oldest = (await o.metrics.oldestOverdueSeconds.get()).values[0]?.value ?? 0;
    write(
      emfLine(
        o.deployment,
        {
          [emfMetrics.inFlight]: o.inFlight(),
          [emfMetrics.oldestOverdue]: oldest,
          [emfMetrics.delivered]: current.delivered - last.delivered,
          [emfMetrics.failed]: current.failed - last.failed,
          [emfMetrics.deadLettered]: current.dead - last.dead,
          [emfMetrics.deferred]: current.deferred - last.deferred,
          [emfMetrics.firstAttempts]: current.firstAttempts - last.firstAttempts,
          [emfMetrics.firstAttemptsLate]: current.late - last.late,
        },
        now(),
      ),
    );
    last = current;
  };
  const timer = setInterval(() => void emit(), o.intervalMs ?? 10_000);
  return {
    async stop() {
      clearInterval(timer);
      await emit();
    },
  };
}
