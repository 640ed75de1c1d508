/**
 * The slot pool: how many deliveries each tenant and each endpoint has in flight on this task, against their caps,
 * and who waits on the task for a slot to free. A slot is a delivery's place in flight; a waiter is a delivery over
 * a cap that may wait here a short while (in arrival order, per tenant) instead of going back to the queue.
 * Counters exist only while something is in flight or waiting, so the pool is as small as the work in hand.
 */

export type SlotRefusal = "tenant_cap" | "endpoint_cap";

export interface Slot {
  /** Frees the slot (again: nothing). */
  release(): void;
}

export type SlotGrant =
  | { readonly ok: true; readonly slot: Slot; readonly waited: boolean }
  | { readonly ok: false; readonly reason: SlotRefusal; readonly waited: boolean };

export interface SlotWant {
  readonly tenantId: string;
  readonly endpointId: string;
  /** The endpoint's in-flight limit now (asked again whenever a slot frees; 0: none may start). */
  readonly limit: () => number;
  /** How long it may wait for a slot; 0: not at all. */
  readonly maxWaitMs: number;
}

export interface SlotPool {
  /** A slot now, or, over a cap, after waiting in line up to `maxWaitMs` if the line has room; else why not. */
  acquire(want: SlotWant): Promise<SlotGrant>;
  /** Sends every waiter back and lets no one wait from now on (the task is stopping). */
  close(): void;
  /** Deliveries in flight on this task. */
  inFlight(): number;
  /** Tenants and endpoints with something in flight or waiting (the pool's size). */
  size(): number;
}

interface Waiter extends SlotWant {
  readonly give: (slot?: Slot) => void;
}

/** Waits in the tenant's line until given a slot (or sent back: undefined), at most `maxWaitMs`. */
function waitInLine(lines: Map<string, Waiter[]>, w: SlotWant): Promise<Slot | undefined> {
  return new Promise((resolve) => {
    const line = lines.get(w.tenantId) ?? [];
    const timer = setTimeout(() => {
      const i = line.indexOf(waiter);
      if (i >= 0) line.splice(i, 1);
      if (line.length === 0 && lines.get(w.tenantId) === line) lines.delete(w.tenantId);
      resolve(undefined);
    }, w.maxWaitMs);
    const waiter: Waiter = { ...w, give: (slot) => (clearTimeout(timer), resolve(slot)) };
    line.push(waiter);
    lines.set(w.tenantId, line);
  });
}

/** Counters that exist only while non-zero. */
const count = (m: Map<string, number>, id: string) => m.get(id) ?? 0;
function add(m: Map<string, number>, id: string, n: number): void {
  const next = count(m, id) + n;
  if (next === 0) m.delete(id);
  else m.set(id, next);
}

export function createSlotPool(o: { readonly tenantCap: number }): SlotPool {
  const tenants = new Map<string, number>();
  const endpoints = new Map<string, number>();
  const lines = new Map<string, Waiter[]>();
  let total = 0;
  let closed = false;
  const isClosed = () => closed; // read after an await: it may have changed meanwhile

  const refusal = (w: SlotWant): SlotRefusal | undefined => {
    if (count(endpoints, w.endpointId) >= w.limit()) return "endpoint_cap";
    return count(tenants, w.tenantId) >= o.tenantCap ? "tenant_cap" : undefined;
  };
  const grant = (w: SlotWant): Slot => {
    add(tenants, w.tenantId, 1);
    add(endpoints, w.endpointId, 1);
    total++;
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        add(tenants, w.tenantId, -1);
        add(endpoints, w.endpointId, -1);
        total--;
        wake(w.tenantId);
      },
    };
  };
  /**
   * A slot freed in this tenant: handed at once to the first waiters whose endpoints have room, so a delivery
   * arriving meanwhile cannot take it. A waiter whose endpoint may take nothing now (paused) is sent back.
   */
  const wake = (tenantId: string) => {
    const line = lines.get(tenantId);
    if (!line) return;
    for (let i = 0; i < line.length;) {
      const w = line[i]!;
      const why = refusal(w);
      if (why === "tenant_cap") break;
      if (why === "endpoint_cap" && w.limit() > 0) {
        i++;
        continue;
      }
      line.splice(i, 1);
      w.give(why ? undefined : grant(w));
    }
    if (line.length === 0) lines.delete(tenantId);
  };
  /** The line is short: per tenant at most its cap, per endpoint at most its limit. */
  const lineHasRoom = (w: SlotWant) => {
    const line = lines.get(w.tenantId) ?? [];
    return line.length < o.tenantCap && line.filter((x) => x.endpointId === w.endpointId).length < w.limit();
  };
  return {
    async acquire(w) {
      const why = refusal(w);
      if (!why) return { ok: true, slot: grant(w), waited: false };
      if (closed || w.maxWaitMs <= 0 || w.limit() <= 0 || !lineHasRoom(w))
        return { ok: false, reason: why, waited: false };
      const slot = await waitInLine(lines, w);
      if (slot) return { ok: true, slot, waited: true };
      // Not handed one (its time ran out, its endpoint paused, the task is stopping): one last look.
      const still = refusal(w);
      return still || isClosed()
        ? { ok: false, reason: still ?? why, waited: true }
        : { ok: true, slot: grant(w), waited: true };
    },
    close() {
      closed = true;
      for (const line of lines.values()) line.splice(0).forEach((w) => w.give());
      lines.clear();
    },
    inFlight: () => total,
    size: () => tenants.size + endpoints.size + lines.size,
  };
}
