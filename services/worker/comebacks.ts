/**
 * When a delivery turned away comes back: a virtual queue per key (an endpoint, or a tenant at its cap), each
 * comeback one spacing after the previous, ±10%, so a backlog returns at the rate it can be taken, not in a storm.
 * At most `maxKeys` keys are remembered, least recently used forgotten first (a forgotten key only starts anew).
 */
import { lru } from "../lru.ts";

export interface Comebacks {
  /** The comeback time of one more delivery for `key`: not before `notBefore`, one `spacingMs` after the last. */
  next(key: string, notBefore: number, spacingMs: number): number;
  /** Keys remembered now. */
  size(): number;
}

export interface ComebacksOptions {
  readonly now: () => number;
  readonly random: () => number;
  /** @default 10_000 */
  readonly maxKeys?: number;
}

export function createComebacks(o: ComebacksOptions): Comebacks {
  const last = lru<string, number>(o.maxKeys ?? 10_000);
  return {
    next(key, notBefore, spacingMs) {
      const now = o.now();
      const at = Math.max(notBefore, (last.get(key) ?? 0) + spacingMs, now + spacingMs);
      last.set(key, at);
      return Math.round(now + (at - now) * (0.9 + 0.2 * o.random()));
    },
    size: () => last.size,
  };
}
