/**
 * A budget over the payload bytes this task holds in memory at once: a delivery waits (first come, first
 * served) until its event's body fits, so many large events can't exhaust the heap. A body larger than the
 * whole budget goes alone.
 */
export interface MemoryBudget {
  /** Resolves once `bytes` fit; the caller must call the returned release exactly once. */
  acquire(bytes: number): Promise<() => void>;
  /** Bytes held now. */
  held(): number;
}

export function createMemoryBudget(maxBytes: number): MemoryBudget {
  let held = 0;
  const waiting: { bytes: number; go: () => void }[] = [];
  const fits = (bytes: number) => held === 0 || held + bytes <= maxBytes;
  const wake = () => {
    while (waiting.length > 0 && fits(waiting[0]!.bytes)) {
      const next = waiting.shift()!;
      held += next.bytes;
      next.go();
    }
  };
  return {
    async acquire(bytes) {
      if (waiting.length > 0 || !fits(bytes)) await new Promise<void>((go) => waiting.push({ bytes, go }));
      else held += bytes;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held -= bytes;
        wake();
      };
    },
    held: () => held,
  };
}
