/** Retries of the answers that mean "not now" (429, 503), honouring Retry-After within a bound. */
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. @default 3 */
  readonly maxRetries?: number;
  /** The longest wait before one retry: a Retry-After asking for more is not waited for, its answer is thrown. @default 30_000 */
  readonly maxDelayMs?: number;
}

const idempotentMethods = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
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

/**
 * Whether a request answered `status` may go again: a 429 did nothing; a 503 (a backing store failed) may have done
 * part of a write, so only a request that is safe to repeat goes again: an idempotent method, or an Idempotency-Key.
 */
export function mayRetry(request: Request, status: number): boolean {
  if (status === 429) return true;
  return status === 503 && (idempotentMethods.has(request.method) || request.headers.has("idempotency-key"));
}

/** `fetch` that sends a request again (a fresh copy of it, body included) while `mayRetry` says so. */
export function retryingFetch(inner: typeof fetch, opts: RetryOptions = {}): typeof fetch {
  const maxRetries = opts.maxRetries ?? 3;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  return async (input, init) => {
    const request = new Request(input, init);
    for (let retry = 0; ; retry++) {
      const response = await inner(request.clone());
      if (!mayRetry(request, response.status) || retry >= maxRetries) return response;
      const delay = retryDelayMs(response.headers.get("retry-after"), retry, maxDelayMs);
      if (delay === undefined) return response;
      // Free the connection before waiting; the answer is not needed.
      await response.body?.cancel();
      await sleep(delay, undefined, { signal: request.signal });
    }
  };
}
