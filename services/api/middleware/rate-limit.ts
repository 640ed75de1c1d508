/** Per-tenant token bucket on ingestion, kept in this API task (each task allows the configured rate). */
import type { RequestHandler } from "express";
import { LRUCache } from "lru-cache";
import { problems } from "../../core/errors.ts";
import { takeToken, type Bucket } from "../../core/token-bucket.ts";
import { requireTenant } from "./authenticate.ts";

export function tenantRateLimit(opts: { ratePerS: number; burst: number; now: () => number }): RequestHandler {
  const buckets = new LRUCache<string, Bucket>({ max: 100_000 });
  return (req, _res, next) => {
    const { tenantId } = requireTenant(req);
    const result = takeToken(buckets.get(tenantId), opts.now(), opts.ratePerS, opts.burst);
    buckets.set(tenantId, result.bucket);
    if (!result.ok) throw problems.tooManyRequests(result.retryAfterS);
    next();
  };
}
