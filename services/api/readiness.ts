/** /readyz's check, asked of DynamoDB and SQS at most every few seconds however often the public route is called. */

/**
 * The check's last result, reused for `okMs` after a success and `failedMs` after a failure; callers that arrive
 * while it runs share that one run. /readyz is reachable through the load balancer: a flood of it must not become a
 * flood of DescribeTable and GetQueueAttributes calls, which AWS would throttle, failing the check they serve.
 */
export function cachedReadiness(
  check: () => Promise<void>,
  now: () => number,
  okMs = 5000,
  failedMs = 1000,
): () => Promise<void> {
  let last: { at: number; ttlMs: number; result: Promise<void> } | undefined;
  return () => {
    const at = now();
    if (!last || at - last.at >= last.ttlMs) {
      const entry = { at, ttlMs: okMs, result: check() };
      entry.result.catch(() => (entry.ttlMs = failedMs));
      last = entry;
    }
    return last.result;
  };
}
