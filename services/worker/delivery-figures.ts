/**
 * What each attempt adds to the delivery figures: the SLO histograms (Prometheus), the per-minute counts the
 * console charts and each endpoint's health figures the portal shows (both added to DynamoDB every `flushMs`, so an
 * item takes a few writes, not one per attempt). CloudWatch gets the first attempts on time and late from the
 * histogram (cloudwatch-metrics.ts). A flush that fails keeps its counts for the next one.
 */
import type { Logger } from "pino";
import {
  attemptBucketsMs,
  bucketOf,
  endpointFigureStepMs,
  latencyBucketsS,
  minuteOf,
} from "../core/delivery-figures.ts";
import { addFigures, recordDepth, type FigureCounts } from "../aws/delivery-figures.ts";
import { addEndpointFigures, type EndpointCounts } from "../aws/endpoint-figures.ts";
import type { QueueDepth } from "../aws/dead-letters.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { Metrics } from "../metrics.ts";

/** One attempt as the figures see it (epoch ms). */
export interface AttemptFacts {
  readonly tenantId: string;
  readonly endpointId: string;
  readonly acceptedAt: number;
  /** 1 for a delivery's first attempt. */
  readonly attempt: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: "delivered" | "retry" | "dead";
}

export interface DeliveryFigures {
  observe(facts: AttemptFacts): void;
  /** The sweeper's reading of the queues. */
  depth(depth: { queue: QueueDepth; dlq: QueueDepth }): Promise<void>;
  /** Flushes what is left. */
  stop(): Promise<void>;
}

type Pending = { delivered: number; failed: number; dead: number; firstAttempts: number[] };
type EndpointPending = {
  tenantId: string;
  endpointId: string;
  step: number;
  delivered: number;
  failed: number;
  durations: number[];
};

const newPending = (): Pending => ({
  delivered: 0,
  failed: 0,
  dead: 0,
  firstAttempts: Array<number>(latencyBucketsS.length + 1).fill(0),
});
const newEndpointPending = (tenantId: string, endpointId: string, step: number): EndpointPending => ({
  tenantId,
  endpointId,
  step,
  delivered: 0,
  failed: 0,
  durations: Array<number>(attemptBucketsMs.length + 1).fill(0),
});

/** One attempt counted in its endpoint's step and its minute, and observed in the metrics. */
function tally(e: EndpointPending, p: Pending, f: AttemptFacts, metrics: Metrics): void {
  if (f.outcome === "delivered") e.delivered++;
  else e.failed++;
  e.durations[bucketOf(f.endedAt - f.startedAt, attemptBucketsMs)]!++;
  if (f.outcome === "delivered") {
    p.delivered++;
    metrics.deliveredSeconds.observe((f.endedAt - f.acceptedAt) / 1000);
  } else {
    p.failed++;
    if (f.outcome === "dead") p.dead++;
  }
  if (f.attempt === 1) {
    const waitedS = Math.max(0, (f.startedAt - f.acceptedAt) / 1000);
    metrics.firstAttemptSeconds.observe(waitedS);
    p.firstAttempts[bucketOf(waitedS)]!++;
  }
}

export function startDeliveryFigures(o: {
  store: EventStore;
  metrics: Metrics;
  log: Logger;
  flushMs: number;
  now: () => number;
}): DeliveryFigures {
  let pending = new Map<number, Pending>();
  const minute = (at: number) => {
    const m = minuteOf(at);
    const p = pending.get(m) ?? newPending();
    pending.set(m, p);
    return p;
  };
  const keep = (m: number, c: FigureCounts) => {
    const p = minute(m);
    p.delivered += c.delivered;
    p.failed += c.failed;
    p.dead += c.dead;
    c.firstAttempts.forEach((n, i) => (p.firstAttempts[i]! += n));
  };
  let endpoints = new Map<string, EndpointPending>();
  const endpointStep = (tenantId: string, endpointId: string, at: number) => {
    const step = Math.floor(at / endpointFigureStepMs) * endpointFigureStepMs;
    const id = `${tenantId} ${endpointId} ${step}`;
    const p = endpoints.get(id) ?? newEndpointPending(tenantId, endpointId, step);
    endpoints.set(id, p);
    return p;
  };
  const keepEndpoint = (e: EndpointPending, c: EndpointCounts) => {
    const p = endpointStep(e.tenantId, e.endpointId, e.step);
    p.delivered += c.delivered;
    p.failed += c.failed;
    c.durations.forEach((n, i) => (p.durations[i]! += n));
  };

  const flush = async () => {
    const taken = pending;
    pending = new Map();
    for (const [m, counts] of taken) {
      await addFigures(o.store, m, counts).catch((err: unknown) => {
        keep(m, counts);
        o.log.warn({ err }, "delivery figures not recorded, will try again");
      });
    }
    const takenEndpoints = endpoints;
    endpoints = new Map();
    for (const e of takenEndpoints.values()) {
      await addEndpointFigures(o.store, e, e.step, e).catch((err: unknown) => {
        keepEndpoint(e, e);
        o.log.warn({ err }, "endpoint figures not recorded, will try again");
      });
    }
  };
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    flushing = flushing.then(flush);
  }, o.flushMs);

  return {
    observe: (f) => tally(endpointStep(f.tenantId, f.endpointId, f.endedAt), minute(f.endedAt), f, o.metrics),
    async depth(d) {
      await recordDepth(o.store, minuteOf(o.now()), d);
    },
    async stop() {
      clearInterval(timer);
      await (flushing = flushing.then(flush));
    },
  };
}
