/**
 * The delivery-latency SLO and the figures kept per minute for the console's charts: the latency buckets (the same
 * for the Prometheus histograms and the stored counts), which minute a time falls in, quantiles from bucket counts;
 * and the per-endpoint health figures' step and attempt-duration buckets.
 */

/** Upper bounds, in seconds, of the latency buckets: webhooks arrive in a fraction of a second or, retried, in an hour. */
export const latencyBucketsS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The SLO's line: a delivery's first attempt within this many seconds of the event's acceptance is on time. */
export const firstAttemptSloS = 30;

/** The SLO's objective: this share of first attempts on time (99%: an error budget of 1%). */
export const firstAttemptSloTarget = 0.99;

/**
 * Upper bounds, in milliseconds, of one attempt's duration (an endpoint's health): receivers answer in a few ms to
 * the delivery timeout, so finer than the acceptance-to-attempt buckets at the fast end.
 */
export const attemptBucketsMs: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

/** An endpoint's health figures are kept per this step (ten minutes): the last hour is six of them, the last day 144. */
export const endpointFigureStepMs = 600_000;

/** The bucket of a value: its index in `bounds`, or bounds.length beyond the last one. */
export function bucketOf(value: number, bounds: readonly number[] = latencyBucketsS): number {
  const i = bounds.findIndex((bound) => value <= bound);
  return i === -1 ? bounds.length : i;
}

export const minuteMs = 60_000;

/** The start of the minute `at` falls in (epoch ms). */
export function minuteOf(at: number): number {
  return Math.floor(at / minuteMs) * minuteMs;
}

/**
 * The q-quantile of a histogram given as counts per bucket of `bounds` (the last one open-ended), interpolated linearly within
 * its bucket as Prometheus' histogram_quantile does; a quantile in the open bucket answers the last bound.
 * Undefined when there is nothing counted.
 */
export function quantileOf(
  counts: readonly number[],
  q: number,
  bounds: readonly number[] = latencyBucketsS,
): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (const [i, n] of counts.entries()) {
    if (n > 0 && below + n >= rank) {
      if (i >= bounds.length) return bounds.at(-1);
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + ((bounds[i]! - lower) * (rank - below)) / n;
    }
    below += n;
  }
  return bounds.at(-1);
}
