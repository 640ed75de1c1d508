/** What one HTTP attempt means for a delivery: the single predicate that decides success and retry. */
import type { AttemptOutcome } from "./delivery-state.ts";
import { parseRetryAfter } from "./retry-policy.ts";

export interface AttemptResponse {
  readonly statusCode?: number | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Set when no complete response was had (refused address, timeout, connection or TLS failure). */
  readonly error?: string | undefined;
}

export function classifyAttempt(res: AttemptResponse, now: number): AttemptOutcome {
  const code = res.statusCode;
  if (code === undefined) return { kind: "failed", error: res.error ?? "no response" };
  // A 2xx counts even if the body then stalled: the receiver has accepted the webhook.
  if (code >= 200 && code < 300) return { kind: "delivered", statusCode: code };
  if (code === 410)
    return {
      kind: "failed",
      statusCode: code,
      error: "410 Gone: the endpoint asked not to be called again",
      permanent: true,
    };
  if (code >= 300 && code < 400) return { kind: "failed", statusCode: code, error: `redirect (${code}) not followed` };
  if (code === 429 || code === 503) {
    const raw = res.headers["retry-after"];
    const retryAfterMs = parseRetryAfter(Array.isArray(raw) ? raw[0] : raw, now);
    return { kind: "failed", statusCode: code, error: `HTTP ${code}`, retryAfterMs };
  }
  return { kind: "failed", statusCode: code, error: `HTTP ${code}` };
}

/**
 * What an answer says of the endpoint's health, for its in-flight limit and its circuit: it is fine, it is down or
 * overloaded (no answer, 5xx, 429), or neither (another 3xx/4xx: it refused this payload, which says nothing of it).
 */
export type HealthSignal = "healthy" | "unhealthy" | "neutral";

export function healthSignal(statusCode: number | undefined): HealthSignal {
  if (statusCode === undefined || statusCode >= 500 || statusCode === 429) return "unhealthy";
  return statusCode < 300 ? "healthy" : "neutral";
}
