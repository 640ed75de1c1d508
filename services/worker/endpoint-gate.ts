/**
 * The endpoint gate: whether an endpoint may take a delivery now, as this task sees it, and what an answer changes.
 * Per endpoint, in memory and bounded: its pace (endpoint-pace.ts: mode, AIMD limit, failure run, pause, latency,
 * which spaces comebacks). Shared across tasks, on the endpoint as stored: its circuit (one probe at a time,
 * claimed by a version-guarded write) and its rate limit (a GCRA schedule). The gate answers "go" or "come back at T,
 * because R"; its `after` answers the one change to write on the endpoint, if any.
 */
import { lru } from "../lru.ts";
import { circuitGate, claimProbe, type PacingChange, type RateDecision } from "../core/endpoint-pacing.ts";
import type { HealthSignal } from "../core/attempt-outcome.ts";
import type { Endpoint } from "../core/tenant.ts";
import type { Comebacks } from "./comebacks.ts";
import { afterAnswer, current, newState, spacing, type Answer, type State } from "./endpoint-pace.ts";
import type { SlotRefusal } from "./slot-pool.ts";

export type DeferReason = SlotRefusal | "paused" | "circuit_open" | "rate_limited";

export interface EndpointRef {
  readonly tenantId: string;
  readonly endpointId: string;
}

/** The shared state the gate reads and writes: the probe's claim and the rate limit's schedule. */
export interface GateIo {
  /** Applies `change` to the endpoint as stored (version-guarded); answers it as stored afterwards. */
  changeEndpoint(key: EndpointRef, change: (e: Endpoint) => Endpoint | undefined): Promise<Endpoint | undefined>;
  takeRateTurn(key: EndpointRef, now: number, perSecond: number, horizonMs: number): Promise<RateDecision>;
}

export type Pass = { readonly ok: true; readonly probe: boolean } | Deferral;
export type Deferral = { readonly ok: false; readonly reason: DeferReason; readonly at: number };

export interface EndpointGate {
  /** The endpoint's in-flight limit on this task now (≤ its cap; 0 while paused: nothing may start). */
  limit(endpointId: string, cap: number): number;
  /** Whether a delivery over the endpoint's limit may wait for a slot: only a steady endpoint's. */
  mayWait(endpointId: string): boolean;
  /** When a delivery the slot pool turned away comes back, and why (a paused endpoint says so). */
  comeback(key: EndpointRef, refusal: SlotRefusal, rateLimit: number | undefined): Deferral;
  /** With a slot taken: the circuit (claiming the probe when one is due) and the rate limit (waiting for a turn). */
  pass(key: EndpointRef, endpoint: Endpoint): Promise<Pass>;
  /** An attempt's answer moves the endpoint's state on; answers what to write on the endpoint, if anything. */
  after(endpointId: string, cap: number, signal: HealthSignal, answer: Answer): PacingChange | undefined;
  /** Endpoints remembered now. */
  size(): number;
}

export interface GateOptions {
  /** Failures in a row that open an endpoint's circuit. */
  readonly breakerFailures: number;
  /** The first wait of an opened circuit before one probe goes. */
  readonly breakerCooldownMs: number;
  /** How long a probe's claim lasts: its lease. */
  readonly leaseMs: number;
  /** How far ahead a rate turn is reserved and waited for on the task; beyond, the delivery is deferred. */
  readonly rateHorizonMs: number;
  /** Deliveries of one tenant in flight at most (the slot pool's cap): a tenant's comebacks are spaced by it. */
  readonly tenantCap: number;
  readonly comebacks: Comebacks;
  readonly now: () => number;
  /** @default 10_000 */
  readonly maxEndpoints?: number;
}

export function createEndpointGate(o: GateOptions, io: GateIo): EndpointGate {
  // A forgotten endpoint only loses its pacing history (it starts again steady): the map stays bounded.
  const states = lru<string, State>(o.maxEndpoints ?? 10_000);
  const state = (endpointId: string, cap: number): State => {
    let s = states.get(endpointId);
    if (!s) states.set(endpointId, (s = newState(cap)));
    return current(s, cap, o.now());
  };
  const defer = (key: string, reason: DeferReason, notBefore: number, spacingMs: number): Deferral => ({
    ok: false,
    reason,
    at: o.comebacks.next(key, notBefore, spacingMs),
  });
  const known = (endpointId: string) => states.get(endpointId);
  /**
   * An endpoint's comebacks are spaced by its pace: its latency over its limit (an unknown one: 20 ms), or its rate
   * limit's interval when that is slower, so a backlog behind a rate limit comes back about when its turns come.
   */
  const pace = (endpointId: string, rateLimit: number | undefined) => {
    const s = known(endpointId);
    return Math.max(s ? spacing(s) : 20, rateLimit ? 1000 / rateLimit : 0);
  };

  return {
    limit(endpointId, cap) {
      const s = state(endpointId, cap);
      return s.mode === "paused" ? 0 : Math.min(s.limit.limit, cap);
    },
    mayWait: (endpointId) => (known(endpointId)?.mode ?? "steady") === "steady",
    comeback(key, refusal, rateLimit) {
      const s = known(key.endpointId);
      const now = o.now();
      if (s?.mode === "paused") return defer(key.endpointId, "paused", s.pausedUntil, spacing(s));
      // A tenant at its cap: its slots turn over about its cap times as fast as one endpoint's.
      return refusal === "tenant_cap"
        ? defer(`tenant:${key.tenantId}`, refusal, now, (s?.latencyMs ?? 1000) / o.tenantCap)
        : defer(key.endpointId, refusal, now, pace(key.endpointId, rateLimit));
    },
    async pass(key, endpoint) {
      let probe = false;
      const gate = circuitGate(endpoint.circuit, o.now());
      if (gate.kind === "wait")
        return defer(key.endpointId, "circuit_open", gate.until, pace(key.endpointId, endpoint.rateLimit));
      if (gate.kind === "probe") {
        // One probe at a time across every task: the claim is a version-guarded write, and one writer wins. The
        // change may run more than once (a race retries it): its last run says whether the write was ours.
        const until = o.now() + o.leaseMs;
        const claim = { won: false };
        const stored = await io.changeEndpoint(key, (e) => {
          const c = claimProbe(e.circuit, o.now(), until);
          claim.won = c !== undefined;
          return c && { ...e, circuit: c };
        });
        if (!claim.won) {
          // Another task's probe is in flight (or has just closed the circuit: then come back at once).
          const g = circuitGate(stored?.circuit, o.now());
          const at = g.kind === "wait" ? g.until : o.now();
          return defer(key.endpointId, "circuit_open", at, pace(key.endpointId, endpoint.rateLimit));
        }
        probe = true;
      }
      if (endpoint.rateLimit !== undefined) {
        const turn = await io.takeRateTurn(key, o.now(), endpoint.rateLimit, o.rateHorizonMs);
        if (!turn.ok) return defer(key.endpointId, "rate_limited", turn.retryAt, 1000 / endpoint.rateLimit);
        // The turn is reserved: it is waited for here (the endpoint's limit bounds how many wait).
        const wait = turn.at - o.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      return { ok: true, probe };
    },
    after(endpointId, cap, signal, answer) {
      return afterAnswer(state(endpointId, cap), signal, answer, o.now(), o);
    },
    size: () => states.size,
  };
}
