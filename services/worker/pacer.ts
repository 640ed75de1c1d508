/**
 * This task's share-keeping: how many deliveries are in flight per tenant and per endpoint (against their
 * caps), each endpoint's in-flight limit (cut on failures, grown back on successes), pauses asked for with
 * Retry-After, runs of failures for the circuit breaker, and when a delivery held back should come back.
 * Everything here is in memory: no I/O decides whether a delivery may start. A delivery over a cap of a healthy
 * endpoint may wait here for a slot, in a short line (at most the cap again, per endpoint and per tenant), instead
 * of going back to the queue and being received again a moment later; the rest go back spaced out.
 */
import { adjustLimit, type ConcurrencyLimit } from "../core/endpoint-pacing.ts";

export interface PacerOptions {
  /** Deliveries of one tenant in flight at most (on this task). */
  readonly tenantMaxInFlight: number;
  /** Deliveries to one endpoint in flight at most, unless the endpoint sets its own. */
  readonly endpointMaxInFlight: number;
  /** Failures in a row that open an endpoint's circuit. */
  readonly breakerFailures: number;
  readonly now: () => number;
  readonly random: () => number;
}

export type DeferReason = "tenant_cap" | "endpoint_cap" | "paused" | "circuit_open" | "rate_limited";

/** The end of a delivery, as the endpoint's pacing sees it: an answer that says it is healthy or not, or neither. */
export type Result = "success" | "failure" | "neutral";

export interface Slot {
  /** Frees the slot; answers what the endpoint's pacing wants written down, if anything. */
  release(result: Result, opts?: { latencyMs?: number; retryAfterMs?: number }): Verdict;
}

export interface Verdict {
  /** This failure completed a run of `breakerFailures`: open the circuit. */
  readonly trip: boolean;
  /** The endpoint's in-flight limit changed enough to report (undefined: back at its maximum). */
  readonly reportLimit?: { readonly limit: number | undefined };
}

export type Admission =
  | { readonly ok: true; readonly slot: Slot }
  | { readonly ok: false; readonly reason: DeferReason; readonly at: number };

/** An admission that may have waited in line for its slot (then what was read before the wait may be stale). */
export type Acquired = Admission & { readonly waited: boolean };

interface Lane {
  inFlight: number;
  /** When the last delivery held back here comes back: the next one comes a spacing later (a virtual queue). */
  nextBackAt: number;
  /** Smoothed duration of a delivery here, ms. */
  latencyMs: number;
}

interface EndpointLane extends Lane {
  limit: ConcurrencyLimit;
  max: number;
  failuresInARow: number;
  pausedUntil: number;
  /** The limit as last reported, to write only changes. */
  reported: number | undefined;
}

const farthestBackMs = 15 * 60_000;
const maxPauseMs = 10 * 60_000;

export interface Pacer {
  /** Takes a slot for the delivery, or says why not and when it should come back. */
  admit(tenantId: string, endpointId: string, endpointMax: number | undefined): Admission;
  /** As admit, but over a cap of a healthy endpoint it first waits in line up to `maxWaitMs` if the line has room. */
  acquire(tenantId: string, endpointId: string, endpointMax: number | undefined, maxWaitMs: number): Promise<Acquired>;
  /** Sends everyone waiting in line back (the task is stopping) and lets no one wait from now on. */
  close(): void;
  /** A held delivery's return time in the endpoint's virtual queue: after `notBefore`, spaced at `spacingMs`. */
  backAt(endpointId: string, notBefore: number, spacingMs?: number): number;
  /** The circuit closed after a probe: the endpoint starts again from a limit of one and grows back. */
  restart(endpointId: string): void;
  /** Deliveries in flight on this task. */
  inFlight(): number;
}

export function createPacer(o: PacerOptions): Pacer {
  const tenants = new Map<string, Lane>();
  const endpoints = new Map<string, EndpointLane>();
  let inFlight = 0;

  const lane = (id: string): Lane => {
    let l = tenants.get(id);
    if (!l) tenants.set(id, (l = { inFlight: 0, nextBackAt: 0, latencyMs: 1000 }));
    return l;
  };
  const endpointLane = (id: string, max: number): EndpointLane => {
    let l = endpoints.get(id);
    if (!l)
      endpoints.set(
        id,
        (l = {
          inFlight: 0,
          nextBackAt: 0,
          latencyMs: 1000,
          limit: { limit: max, cutAt: Number.NEGATIVE_INFINITY },
          max,
          failuresInARow: 0,
          pausedUntil: 0,
          reported: undefined,
        }),
      );
    l.max = max;
    return l;
  };
  /** Jittered by ±10%, so deliveries held together do not come back together. */
  const spaced = (l: Lane, notBefore: number, spacingMs: number): number => {
    const now = o.now();
    const at = Math.min(now + farthestBackMs, Math.max(notBefore, l.nextBackAt + spacingMs, now + spacingMs));
    l.nextBackAt = at;
    return Math.round(now + (at - now) * (0.9 + 0.2 * o.random()));
  };
  /** Who waits for a slot, per tenant in arrival order; `give` hands one over (undefined: no slot, go back). */
  const lines = new Map<
    string,
    { readonly endpointId: string; readonly max: number; readonly give: (slot?: Slot) => void }[]
  >();
  let closed = false;
  const forget = (tenantId: string, endpointId: string, t: Lane, e: EndpointLane) => {
    const now = o.now();
    // Idle lanes are dropped so the maps stay as small as the set of busy endpoints. (A lane someone waits for
    // is not idle: the slots it waits on are taken.)
    if (t.inFlight === 0 && t.nextBackAt < now) tenants.delete(tenantId);
    if (
      e.inFlight === 0 &&
      e.nextBackAt < now &&
      e.pausedUntil < now &&
      e.failuresInARow === 0 &&
      e.limit.limit >= e.max
    )
      endpoints.delete(endpointId);
  };
  const refusal = (t: Lane, e: EndpointLane, now: number): DeferReason | undefined => {
    if (e.pausedUntil > now) return "paused";
    if (e.inFlight >= Math.min(e.limit.limit, e.max)) return "endpoint_cap";
    if (t.inFlight >= o.tenantMaxInFlight) return "tenant_cap";
    return undefined;
  };
  const refuse = (reason: DeferReason, t: Lane, e: EndpointLane, now: number): Admission & { ok: false } => {
    if (reason === "paused") return { ok: false, reason, at: spaced(e, e.pausedUntil, e.latencyMs / e.limit.limit) };
    if (reason === "endpoint_cap") return { ok: false, reason, at: spaced(e, now, e.latencyMs / e.limit.limit) };
    return { ok: false, reason, at: spaced(t, now, t.latencyMs / o.tenantMaxInFlight) };
  };
  /**
   * A slot was freed in this tenant: it goes to the first in its line whose endpoint has room, handed over at once
   * so a delivery arriving meanwhile cannot take it. Anyone whose endpoint is now paused is sent back on the way.
   */
  const wake = (tenantId: string, t: Lane) => {
    const line = lines.get(tenantId);
    if (!line) return;
    const now = o.now();
    for (let i = 0; i < line.length;) {
      const w = line[i]!;
      const e = endpointLane(w.endpointId, w.max);
      const reason = refusal(t, e, now);
      if (reason === "endpoint_cap") {
        i++;
        continue;
      }
      if (reason === "tenant_cap") break;
      line.splice(i, 1);
      if (reason === "paused") {
        w.give();
        continue;
      }
      w.give(grant(tenantId, w.endpointId, t, e));
      break;
    }
    if (line.length === 0) lines.delete(tenantId);
  };
  const grant = (tenantId: string, endpointId: string, t: Lane, e: EndpointLane): Slot => {
    t.inFlight++;
    e.inFlight++;
    inFlight++;
    let released = false;
    return {
      release(result, opts = {}) {
        if (released) return { trip: false };
        released = true;
        t.inFlight--;
        e.inFlight--;
        inFlight--;
        const at = o.now();
        if (opts.latencyMs !== undefined) {
          t.latencyMs = 0.8 * t.latencyMs + 0.2 * opts.latencyMs;
          e.latencyMs = 0.8 * e.latencyMs + 0.2 * opts.latencyMs;
        }
        if (opts.retryAfterMs !== undefined)
          e.pausedUntil = Math.max(e.pausedUntil, at + Math.min(maxPauseMs, opts.retryAfterMs));
        let trip = false;
        if (result !== "neutral") {
          e.limit = adjustLimit(e.limit, e.max, result === "success", at);
          e.failuresInARow = result === "success" ? 0 : e.failuresInARow + 1;
          trip = e.failuresInARow >= o.breakerFailures;
        }
        const limit = e.limit.limit >= e.max ? undefined : e.limit.limit;
        // Reported when first cut and when back at the maximum; the steps in between stay local.
        const report =
          limit === e.reported || (limit !== undefined && e.reported !== undefined) ? undefined : { limit };
        if (report) e.reported = limit;
        wake(tenantId, t);
        forget(tenantId, endpointId, t, e);
        return report ? { trip, reportLimit: report } : { trip };
      },
    };
  };
  const admit = (tenantId: string, endpointId: string, endpointMax: number | undefined): Admission => {
    const now = o.now();
    const t = lane(tenantId);
    const e = endpointLane(endpointId, endpointMax ?? o.endpointMaxInFlight);
    const reason = refusal(t, e, now);
    return reason ? refuse(reason, t, e, now) : { ok: true, slot: grant(tenantId, endpointId, t, e) };
  };

  return {
    admit,
    async acquire(tenantId, endpointId, endpointMax, maxWaitMs) {
      const max = endpointMax ?? o.endpointMaxInFlight;
      const now = o.now();
      const t = lane(tenantId);
      const e = endpointLane(endpointId, max);
      const reason = refusal(t, e, now);
      if (!reason) return { ok: true, slot: grant(tenantId, endpointId, t, e), waited: false };
      const line = lines.get(tenantId) ?? [];
      // Only a healthy endpoint's deliveries wait (a failing one's would only fail later), and only a short line.
      const mayWait =
        !closed &&
        reason !== "paused" &&
        e.failuresInARow === 0 &&
        maxWaitMs > 0 &&
        line.length < o.tenantMaxInFlight &&
        line.filter((w) => w.endpointId === endpointId).length < Math.min(e.limit.limit, e.max);
      if (!mayWait) return { ...refuse(reason, t, e, now), waited: false };
      const slot = await new Promise<Slot | undefined>((resolve) => {
        const timer = setTimeout(() => {
          const i = line.indexOf(w);
          if (i >= 0) line.splice(i, 1);
          if (line.length === 0 && lines.get(tenantId) === line) lines.delete(tenantId);
          resolve(undefined);
        }, maxWaitMs);
        const w = { endpointId, max, give: (given?: Slot) => (clearTimeout(timer), resolve(given)) };
        line.push(w);
        lines.set(tenantId, line);
      });
      if (slot) return { ok: true, slot, waited: true };
      // Not handed a slot (its time ran out, the endpoint paused, the task is stopping): back to the queue.
      const later = o.now();
      const tl = lane(tenantId);
      const el = endpointLane(endpointId, max);
      const still = refusal(tl, el, later);
      if (!still && !closed) return { ok: true, slot: grant(tenantId, endpointId, tl, el), waited: true };
      return { ...refuse(still ?? reason, tl, el, later), waited: true };
    },
    close() {
      closed = true;
      for (const line of lines.values()) line.splice(0).forEach((w) => w.give());
      lines.clear();
    },
    backAt(endpointId, notBefore, spacingMs) {
      const e = endpointLane(endpointId, endpoints.get(endpointId)?.max ?? o.endpointMaxInFlight);
      return spaced(e, notBefore, spacingMs ?? e.latencyMs / e.max);
    },
    restart(endpointId) {
      const e = endpoints.get(endpointId);
      if (!e) return;
      e.failuresInARow = 0;
      e.limit = { limit: 1, cutAt: o.now() };
    },
    inFlight: () => inFlight,
  };
}
