/** What one delivery works with: its I/O as one interface (store, queue hints, receiver), and the task's units. */
import type { Logger } from "pino";
import type { RateDecision } from "../core/endpoint-pacing.ts";
import type { AttemptOutcome, Delivery, LeaseInput, OutcomeDecision, OutcomeInput } from "../core/delivery-state.ts";
import type { Notify } from "../ingestion/operational-events.ts";
import type { Endpoint, SigningSecret, Tenant } from "../core/tenant.ts";
import type { DeliveriesState } from "../aws/events/change-deliveries.ts";
import type { DeliveryKey, Lease, LeaseTurn, ParkAnswer } from "../aws/events/delivery-ops.ts";
import type { Ordered, Turn } from "../aws/events/ordering.ts";
import type { AttemptItem, EventItem } from "../aws/events/store.ts";
import type { PostResult } from "../outbound/guarded-client.ts";
import type { Destination } from "../core/destination.ts";
import type { DestinationMessage } from "../aws/destinations/sender.ts";
import type { Metrics } from "../metrics.ts";
import type { DeliveryFigures } from "./delivery-figures.ts";
import type { EndpointGate } from "./endpoint-gate.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import type { Slot, SlotPool } from "./slot-pool.ts";

export interface DeliveryOps {
  /** The tenant, read afresh when the cached one is older than `minVersion`. */
  getTenant(tenantId: string, minVersion?: number): Promise<Tenant | undefined>;
  /** `turn`: an ordered delivery's turn (without one, an ordered event's lease is refused); `after`: what it waited for. */
  takeLease(
    key: DeliveryKey,
    input: LeaseInput & { readonly turn?: LeaseTurn | undefined; readonly after?: string | undefined },
  ): Promise<Lease>;
  /** Whether an ordered delivery is its lane's head (aws/events/ordering.ts). */
  takeTurn(key: DeliveryKey, o: Ordered, now: number): Promise<Turn>;
  /** After an ordered delivery settled: its lane goes on and the new head, if waiting, gets a message. */
  passTurn(key: DeliveryKey, o: Ordered, settled: Delivery | undefined, now: number): Promise<void>;
  recordAttempt(tenantId: string, attempt: AttemptItem): Promise<void>;
  recordOutcome(
    key: DeliveryKey,
    outcome: AttemptOutcome,
    input: OutcomeInput,
    known: DeliveriesState,
  ): Promise<OutcomeDecision | { ok: false; reason: "missing" }>;
  /** Settles a delivery whose tenant or endpoint is gone; false when there is no such delivery. */
  abandon(key: DeliveryKey, now: number, reason: string): Promise<boolean>;
  /** Settles a delivery whose endpoint or tenant is disabled as SKIPPED: it as stored then, or undefined. */
  skip(key: DeliveryKey, now: number): Promise<{ delivery: Delivery; orderingKey?: string | undefined } | undefined>;
  /** Parks a delivery until `until` (behind its lane's head `behind`): the sweeper sends it a new message then. */
  park(key: DeliveryKey, now: number, until: number, behind?: string): Promise<ParkAnswer>;
  /** Changes the endpoint under its tenant's version; answers the endpoint as stored afterwards. */
  changeEndpoint(key: DeliveryKey, change: (e: Endpoint) => Endpoint | undefined): Promise<Endpoint | undefined>;
  /** A turn of the endpoint's rate limit, now or reserved up to `horizonMs` ahead. */
  takeRateTurn(key: DeliveryKey, now: number, perSecond: number, horizonMs: number): Promise<RateDecision>;
  /** The plaintexts of an endpoint's signing secrets (sealed at rest), in the order given. */
  openSecrets(key: DeliveryKey, secrets: readonly SigningSecret[]): Promise<string[]>;
  /** `sendTraceContext`: the endpoint takes a traceparent header (its `sendTraceparent`, on unless turned off). */
  post(url: string, body: Uint8Array, headers: Record<string, string>, sendTraceContext: boolean): Promise<PostResult>;
  /** Delivers into an AWS destination through its role, answered as a POST is (aws/destinations/sender.ts). */
  send(dest: Destination, message: DestinationMessage): Promise<PostResult>;
  /**
   * Emits an operational event (never for the system tenant's own deliveries); never throws. Its `flush` sends the
   * notices gathered in open windows now (on stop, so a drained task loses none).
   */
  readonly notify: Notify;
}

export interface DeliverDeps {
  readonly ops: DeliveryOps;
  readonly pool: SlotPool;
  readonly gate: EndpointGate;
  readonly memory: MemoryBudget;
  readonly schedule: readonly number[];
  /** How long a lease lasts: the delivery timeout plus room to record the outcome. */
  readonly leaseMs: number;
  /** Deliveries to one endpoint in flight at most on this task, unless the endpoint sets its own. */
  readonly endpointCap: number;
  /** An endpoint failing without a success for this long is disabled. */
  readonly disableAfterMs: number;
  /** The sweeper's grace: a deferral longer than half of it parks the delivery instead of a nack. */
  readonly sweepGraceMs: number;
  /** How long a delivery over a steady endpoint's limit may wait on the task for a slot. */
  readonly slotWaitMs: number;
  /** Assumed size of an event whose message does not say. */
  readonly maxPayloadBytes: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The SLO histograms and the console's per-minute figures. */
  readonly figures: Pick<DeliveryFigures, "observe">;
  readonly now: () => number;
  readonly random: () => number;
}

/** A failure sorted by when it happened: before the POST (nothing sent), or after it (recording its outcome). */
export class DeliveryStageError extends Error {
  readonly stage: "before the attempt" | "after the attempt";
  /** Which delivery, for the log line that reports the failure. */
  readonly ids: { readonly tenant_id: string; readonly event_id: string; readonly endpoint_id: string };
  constructor(stage: DeliveryStageError["stage"], key: DeliveryKey, cause: unknown) {
    super(`delivery failed ${stage}`, { cause });
    this.name = "DeliveryStageError";
    this.stage = stage;
    this.ids = { tenant_id: key.tenantId, event_id: key.eventId, endpoint_id: key.endpointId };
  }
}

export async function inStage<T>(
  stage: DeliveryStageError["stage"],
  key: DeliveryKey,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new DeliveryStageError(stage, key, err);
  }
}

/** Ready to POST: the event as leased, and what to give back when done. */
export interface Ready {
  readonly kind: "ready";
  readonly key: DeliveryKey;
  readonly endpoint: Endpoint;
  /** The live secrets in clear, newest first: one signature each. */
  readonly secrets: readonly string[];
  readonly event: EventItem;
  readonly leaseId: string;
  readonly attempt: number;
  /** It goes as its endpoint's circuit probe. */
  readonly probe: boolean;
  readonly slot: Slot;
  readonly releaseMemory: () => void;
}
