/**
 * Token buckets kept in this API task (each task allows the configured rate): per tenant on ingestion, and per
 * client address on failed authentications.
 */
import type { RequestHandler } from "express";
import { lru } from "../../lru.ts";
import { problems } from "../../core/errors.ts";
import { takeToken, tokenWait, type Bucket } from "../../core/token-bucket.ts";
import { requireTenant, type AuthFailures } from "./authenticate.ts";

/** `limit` names it in the 429's detail. @default "This tenant's event rate limit" */
export function tenantRateLimit(opts: {
  ratePerS: number;
  burst: number;
  now: () => number;
  limit?: string;
}): RequestHandler {
  const buckets = lru<string, Bucket>(100_000);
  return (req, _res, next) => {
    const { tenantId } = requireTenant(req);
    const result = takeToken(buckets.get(tenantId), opts.now(), opts.ratePerS, opts.burst);
    buckets.set(tenantId, result.bucket);
    if (!result.ok) throw problems.tooManyRequests(result.retryAfterS, opts.limit);
    next();
  };
}

/**
 * At most `perMinute` failed authentications per client address (with that as the burst); beyond, the address gets
 * 429 before any lookup, so guessing keys costs no DynamoDB read, whatever key it offers next. The address is
 * Express's `req.ip`, which is only the client's own when `trust proxy` counts exactly the proxies in front of us
 * (create-app.ts): trusting more would let a client pick its address with X-Forwarded-For and never run out.
 */
export function authFailureLimit(opts: { perMinute: number; now: () => number }): AuthFailures {
  const buckets = lru<string, Bucket>(100_000);
  const rate = opts.perMinute / 60;
  return {
    check(address) {
      const wait = tokenWait(buckets.get(address), opts.now(), rate, opts.perMinute);
      if (wait !== undefined) throw problems.tooManyRequests(wait, "This address's limit of failed authentications");
    },
    failed(address) {
      buckets.set(address, takeToken(buckets.get(address), opts.now(), rate, opts.perMinute).bucket);
    },
  };
}
