/** The one polling helper: no sleeps in tests, only waiting for a state with a bound. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${opts.what ?? "a condition"}${last instanceof Error ? `: ${last.message}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** The other half: a condition that must hold for all of `forMs` (nothing happens that should not), checked as it goes. */
export async function stays(
  probe: () => Promise<boolean> | boolean,
  opts: { forMs: number; intervalMs?: number; what?: string },
): Promise<void> {
  const until = Date.now() + opts.forMs;
  do {
    if (!(await probe())) throw new Error(`no longer true: ${opts.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  } while (Date.now() < until);
}
