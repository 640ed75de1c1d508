/**
 * What one attempt means for a delivery: the single predicate that decides success and retry. An HTTP attempt says
 * it with its status; an AWS destination's, which has no status to give, with a verdict its sender sets.
 */
import type { AttemptOutcome } from "./delivery-state.ts";
import { parseRetryAfter } from "./retry-policy.ts";

export interface AttemptResponse {
  readonly statusCode?: number | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Set when no complete response was had (refused address, timeout, connection or TLS failure). */
  readonly error?: string | undefined;
  /**
   * For an attempt without a status (an AWS destination's): `throttled` and `retry` are retried as a 429 and a 5xx
   * are; `permanent` is not retried (this message can never go, as one too large); `gone` is not retried and
   * disables the endpoint, as a 410 does (its target is missing, or the role refuses us). Absent: retried.
   */
  readonly verdict?: AttemptVerdict | undefined;
}

export type AttemptVerdict = "retry" | "throttled" | "permanent" | "gone";

export function classifyAttempt(res: AttemptResponse, now: number): AttemptOutcome {
  const code = res.statusCode;
  if (code === undefined) return unanswered(res);
  // A 2xx counts even if the body then stalled: the receiver has accepted the webhook.
  if (code >= 200 && code < 300) return { kind: "delivered", statusCode: code };
  if (code === 410)
    return {
      kind: "failed",
      statusCode: code,
      error: "410 Gone: the endpoint asked not to be called again",
      permanent: true,
      gone: true,
    };
  if (code >= 300 && code < 400) return { kind: "failed", statusCode: code, error: `redirect (${code}) not followed` };
  if (code === 429 || code === 503) {
    const raw = res.headers["retry-after"];
    const retryAfterMs = parseRetryAfter(Array.isArray(raw) ? raw[0] : raw, now);
    return { kind: "failed", statusCode: code, error: `HTTP ${code}`, retryAfterMs };
  }
  return { kind: "failed", statusCode: code, error: `HTTP ${code}` };
}

/** An attempt without a status: retried, unless its verdict says it never will go. */
function unanswered(res: AttemptResponse): AttemptOutcome {
  const error = res.error ?? "no response";
  if (res.verdict === "gone") return { kind: "failed", error, permanent: true, gone: true };
  if (res.verdict === "permanent") return { kind: "failed", error, permanent: true };
  return { kind: "failed", error };
}

/**
 * What an answer says of the endpoint's health, for its in-flight limit and its circuit: it is fine, it is down or
 * overloaded (no answer, 5xx, 429), or neither (another 3xx/4xx: it refused this payload, which says nothing of it).
 */
export type HealthSignal = "healthy" | "unhealthy" | "neutral";

export function healthSignal(statusCode: number | undefined, verdict?: AttemptVerdict): HealthSignal {
  // A refusal for good, like a 410 or another 4xx, says nothing of whether the endpoint is up.
  if (verdict === "permanent" || verdict === "gone") return "neutral";
  if (statusCode === undefined || statusCode >= 500 || statusCode === 429) return "unhealthy";
  return statusCode < 300 ? "healthy" : "neutral";
}
