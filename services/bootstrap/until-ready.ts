/** Retries a start-up step while its backend is still coming up (LocalStack starts DynamoDB on first use). */

export interface UntilReadyOptions {
  /** Give up, rethrowing the last error, rather than wait past this. */
  readonly budgetMs: number;
  /** Called before each wait. @default nothing */
  readonly onRetry?: (err: unknown, waitMs: number) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Runs `step` until it resolves, waiting 0.25 s, 0.5 s, 1 s … (at most 5 s) between attempts. */
export async function untilReady<T>(step: () => Promise<T>, o: UntilReadyOptions): Promise<T> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + o.budgetMs;
  for (let waitMs = 250; ; waitMs = Math.min(waitMs * 2, 5000)) {
    try {
      return await step();
    } catch (err) {
      if (now() + waitMs > deadline) throw err;
      o.onRetry?.(err, waitMs);
      await sleep(waitMs);
    }
  }
}
