/**
 * The console's charts from the workers' per-minute figures: the last hour per minute, or the last day per ten
 * minutes; deliveries and failed attempts per step, first-attempt latency p50/p95 (from the step's bucket counts),
 * and the deepest queue and DLQ the sweepers read in the step.
 */
import type { z } from "zod";
import { latencyBucketsS, quantileOf } from "../core/delivery-figures.ts";
import { readFigures } from "../aws/delivery-figures.ts";
import type { QueueDepth } from "../aws/dead-letters.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { statsHistorySchema } from "./views.ts";

export const historyWindows = {
  hour: { spanMs: 3_600_000, stepMs: 60_000 },
  day: { spanMs: 86_400_000, stepMs: 600_000 },
} as const;

const depthOf = (q: QueueDepth) => q.visible + q.in_flight + q.delayed;

export async function deliveryHistory(
  store: EventStore,
  window: keyof typeof historyWindows,
  now: number,
): Promise<z.input<typeof statsHistorySchema>> {
  const { spanMs, stepMs } = historyWindows[window];
  const first = Math.floor(now / stepMs) * stepMs - spanMs + stepMs;
  const buckets = latencyBucketsS.length + 1;
  const steps = Array.from({ length: spanMs / stepMs }, (_, i) => ({
    at: first + i * stepMs,
    delivered: 0,
    failed: 0,
    dead: 0,
    firstAttempts: Array<number>(buckets).fill(0),
    queue: undefined as QueueDepth | undefined,
    dlq: undefined as number | undefined,
  }));
  for (const m of await readFigures(store, first, now, buckets)) {
    const step = steps[Math.floor((m.minute - first) / stepMs)];
    if (!step) continue;
    step.delivered += m.delivered;
    step.failed += m.failed;
    step.dead += m.dead;
    m.firstAttempts.forEach((n, i) => (step.firstAttempts[i]! += n));
    if (m.queue && (!step.queue || depthOf(m.queue) > depthOf(step.queue))) step.queue = m.queue;
    if (m.dlq !== undefined) step.dlq = Math.max(step.dlq ?? 0, m.dlq);
  }
  return {
    window,
    step_seconds: stepMs / 1000,
    points: steps.map((s) => ({
      at: new Date(s.at).toISOString(),
      delivered: s.delivered,
      failed: s.failed,
      dead: s.dead,
      first_attempt_p50_s: quantileOf(s.firstAttempts, 0.5) ?? null,
      first_attempt_p95_s: quantileOf(s.firstAttempts, 0.95) ?? null,
      queue: s.queue ?? null,
      dlq: s.dlq ?? null,
    })),
  };
}
