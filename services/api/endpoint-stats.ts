/**
 * An endpoint's health for its tenant's portal, from the workers' per-endpoint figures: the last hour and the last
 * day (attempts, delivered, failed, success rate, p50/p95 attempt duration) and the last 24 hours per hour.
 */
import type { z } from "zod";
import { attemptBucketsMs, endpointFigureStepMs, quantileOf } from "../core/delivery-figures.ts";
import { readEndpointFigures, type EndpointCounts } from "../aws/endpoint-figures.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { EndpointKey } from "../aws/tenants.ts";
import type { endpointStatsSchema } from "./views.ts";

const hourMs = 3_600_000;
const buckets = attemptBucketsMs.length + 1;

/** What a window's steps add up to, as the view shows it. */
function summary(steps: readonly EndpointCounts[]) {
  const delivered = steps.reduce((n, s) => n + s.delivered, 0);
  const failed = steps.reduce((n, s) => n + s.failed, 0);
  const durations = Array.from({ length: buckets }, (_, i) => steps.reduce((n, s) => n + (s.durations[i] ?? 0), 0));
  const attempts = delivered + failed;
  return {
    attempts,
    delivered,
    failed,
    success_rate: attempts === 0 ? null : delivered / attempts,
    latency_p50_ms: quantileOf(durations, 0.5, attemptBucketsMs) ?? null,
    latency_p95_ms: quantileOf(durations, 0.95, attemptBucketsMs) ?? null,
  };
}

export async function endpointStats(
  store: EventStore,
  key: EndpointKey,
  now: number,
): Promise<z.input<typeof endpointStatsSchema>> {
  const firstHour = Math.floor(now / hourMs) * hourMs - 23 * hourMs;
  const dayAgo = now - 24 * hourMs;
  // One Query: the steps of the last day, and of the hour the chart's first point begins in.
  const steps = await readEndpointFigures(
    store,
    key,
    Math.min(firstHour, Math.floor(dayAgo / endpointFigureStepMs) * endpointFigureStepMs),
    now,
    buckets,
  );
  // A step counts in a window when it ends inside it: the last hour is the six steps that end in it.
  const within = (ms: number) => steps.filter((s) => s.step + endpointFigureStepMs > now - ms);
  const hours = Array.from({ length: 24 }, (_, i) => ({ at: firstHour + i * hourMs, delivered: 0, failed: 0 }));
  for (const s of steps) {
    const hour = hours[Math.floor((s.step - firstHour) / hourMs)];
    if (!hour) continue;
    hour.delivered += s.delivered;
    hour.failed += s.failed;
  }
  return {
    endpoint_id: key.endpointId,
    last_hour: summary(within(hourMs)),
    last_day: summary(within(24 * hourMs)),
    hours: hours.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
  };
}
