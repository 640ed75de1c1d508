/** Retries of the answers that mean "not now" (429, 503), honouring Retry-After within a bound. */
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. @default 3 */
  readonly maxRetries?: number;
  /** The longest wait before one retry: a Retry-After asking for more is not waited for, its answer is thrown. @default 30_000 */
  readonly maxDelayMs?: number;
}

const retryable = new Set([429, 503]);
const firstBackoffMs = 500;

/**
 * How long to wait before retry number `retry` (0-based) after `response`, or undefined when the wait asked for is
 * beyond `maxDelayMs`. Retry-After in seconds or as an HTTP date; without it, exponential backoff with jitter.
 */
export function retryDelayMs(
  retryAfter: string | null,
  retry: number,
  maxDelayMs: number,
  now: number = Date.now(),
  random: () => number = Math.random,
): number | undefined {
  if (retryAfter !== null && retryAfter.trim() !== "") {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isNaN(ms)) return Math.min(maxDelayMs, firstBackoffMs);
    return ms > maxDelayMs ? undefined : Math.max(0, ms);
  }
  return Math.min(maxDelayMs, firstBackoffMs * 2 ** retry) * (0.5 + random() / 2);
}

/** `fetch` that sends a request again (a fresh copy of it, body included) while the answer is 429 or 503. */
export function retryingFetch(inner: typeof fetch, opts: RetryOptions = {}): typeof fetch {
  const maxRetries = opts.maxRetries ?? 3;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  return async (input, init) => {
    const request = new Request(input, init);
    for (let retry = 0; ; retry++) {
      const response = await inner(request.clone());
      if (!retryable.has(response.status) || retry >= maxRetries) return response;
      const delay = retryDelayMs(response.headers.get("retry-after"), retry, maxDelayMs);
      if (delay === undefined) return response;
      // Free the connection before waiting; the answer is not needed.
      await response.body?.cancel();
      await sleep(delay, undefined, { signal: request.signal });
    }
  };
}
