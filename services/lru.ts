/**
 * The services' LRU caches: lru-cache bounded by a count of entries that it does not allocate up front. Its `max`
 * allocates arrays for all `max` entries at construction (2.8 MB for 100,000, 4.4 MB with a TTL), live for the
 * process's life however few entries it holds; the API held seven such caches, 20 MB of its heap at rest. Bounded
 * instead by `maxSize` with every entry of size 1, the arrays grow as entries arrive and the bound is the same.
 */
import { LRUCache } from "lru-cache";

/** What lru-cache holds: anything but null and undefined. */
type Defined = string | number | boolean | symbol | bigint | object;

export function lru<K extends Defined, V extends Defined, C = unknown>(
  entries: number,
  opts: Omit<LRUCache.Options<K, V, C>, "max" | "maxSize" | "sizeCalculation"> = {},
): LRUCache<K, V, C> {
  return new LRUCache<K, V, C>({ ...opts, maxSize: entries, sizeCalculation: () => 1 });
}
