/** Token buckets for rate limits: `rate` tokens a second, holding at most `burst`. */

export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: Bucket }
  | { readonly ok: false; readonly bucket: Bucket; readonly retryAfterS: number };

/** Whether a token is there now, without taking it: the wait when there is none. */
export function tokenWait(bucket: Bucket | undefined, now: number, rate: number, burst: number): number | undefined {
  const refilled = bucket ? Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate) : burst;
  return refilled >= 1 ? undefined : Math.max(1, Math.ceil((1 - refilled) / rate));
}

export function takeToken(bucket: Bucket | undefined, now: number, rate: number, burst: number): TakeResult {
  const refilled = bucket ? Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate) : burst;
  if (refilled >= 1) return { ok: true, bucket: { tokens: refilled - 1, at: now } };
  return {
    ok: false,
    bucket: { tokens: refilled, at: now },
    retryAfterS: Math.max(1, Math.ceil((1 - refilled) / rate)),
  };
}
