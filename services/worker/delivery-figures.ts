/**
 * What each attempt adds to the delivery figures: the SLO histograms (Prometheus), the per-minute counts the
 * console charts (added to DynamoDB every `flushMs`, so a minute's item takes a few writes, not one per attempt).
 * CloudWatch gets the first attempts on time and late from the histogram (cloudwatch-metrics.ts). A flush that
 * fails keeps its counts for the next one.
 */
import type { Logger } from "pino";
import { bucketOf, latencyBucketsS, minuteOf } from "../core/delivery-figures.ts";
import { addFigures, recordDepth, type FigureCounts } from "../aws/delivery-figures.ts";
import type { QueueDepth } from "../aws/dead-letters.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { Metrics } from "../metrics.ts";

/** One attempt as the figures see it (epoch ms). */
export interface AttemptFacts {
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

export function startDeliveryFigures(o: { store: EventStore; metrics: Metrics; log: Logger; flushMs: number; now: () => number }): DeliveryFigures {
  let pending = new Map<number, Pending>();
  const minute = (at: number) => {
    const m = minuteOf(at);
    let p = pending.get(m);
    if (!p) pending.set(m, (p = { delivered: 0, failed: 0, dead: 0, firstAttempts: Array<number>(latencyBucketsS.length + 1).fill(0) }));
    return p;
  };
  const keep = (m: number, c: FigureCounts) => {
    const p = minute(m);
    p.delivered += c.delivered;
    p.failed += c.failed;
    p.dead += c.dead;
    c.firstAttempts.forEach((n, i) => (p.firstAttempts[i]! += n));
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
  };
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    flushing = flushing.then(flush);
  }, o.flushMs);

  return {
    observe(f) {
      const p = minute(f.endedAt);
      if (f.outcome === "delivered") {
        p.delivered++;
        o.metrics.deliveredSeconds.observe((f.endedAt - f.acceptedAt) / 1000);
      } else {
        p.failed++;
        if (f.outcome === "dead") p.dead++;
      }
      if (f.attempt === 1) {
        const waitedS = Math.max(0, (f.startedAt - f.acceptedAt) / 1000);
        o.metrics.firstAttemptSeconds.observe(waitedS);
        p.firstAttempts[bucketOf(waitedS)]!++;
      }
    },
    async depth(d) {
      await recordDepth(o.store, minuteOf(o.now()), d);
    },
    async stop() {
      clearInterval(timer);
      await (flushing = flushing.then(flush));
    },
  };
}
