/**
 * One delivery, the use case, in three stages. Before the attempt: the tenant and endpoint, the endpoint's
 * pacing (caps, pause, circuit, rate), the memory budget, the lease that also reads the event. The attempt:
 * one signed POST. After it: the attempt record, the outcome, the endpoint's health and circuit, then
 * delivered, retry later, or dead-letter. A failure before or after the POST is thrown as a stage error and
 * the message comes back; a failed POST is an outcome, not an error. What operators subscribe to (a delivery
 * exhausted or recovered, an endpoint disabled) is announced by the worker whose write made it so, once.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { classifyAttempt } from "../core/attempt-outcome.ts";
import {
  totalAttempts,
  type AttemptOutcome,
  type Delivery,
  type LeaseInput,
  type OutcomeDecision,
  type OutcomeInput,
} from "../core/delivery-state.ts";
import { afterProbe, circuitGate, claimProbe, openCircuit, type RateDecision } from "../core/endpoint-pacing.ts";
import type { OperationalNotice } from "../core/operational-events.ts";
import { maxAttempts } from "../core/retry-policy.ts";
import { signatureHeaders } from "../core/signing.ts";
import { endpointAfterAttempt, liveSecrets, type Endpoint, type SigningSecret, type Tenant } from "../core/tenant.ts";
import { parseDeliveryMessage } from "../aws/delivery-queue.ts";
import type { DeliveriesState } from "../aws/events/change-deliveries.ts";
import type { DeliveryKey, Lease } from "../aws/events/delivery-ops.ts";
import type { AttemptItem, EventItem } from "../aws/events/store.ts";
import type { PostResult } from "../outbound/guarded-client.ts";
import { statusClass, type Metrics } from "../metrics.ts";
import type { DeliveryFigures } from "./delivery-figures.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import type { Pacer, Result, Slot } from "./pacer.ts";
import { DeliveryStageError, type Disposition, type Received } from "./scheduler.ts";

/** Everything a delivery reads or writes, as one interface: the store, the queue's hints, the receiver. */
export interface DeliveryOps {
  /** The tenant, read afresh when the cached one is older than `minVersion`. */
  getTenant(tenantId: string, minVersion?: number): Promise<Tenant | undefined>;
  takeLease(key: DeliveryKey, input: LeaseInput): Promise<Lease>;
  recordAttempt(tenantId: string, attempt: AttemptItem): Promise<void>;
  recordOutcome(
    key: DeliveryKey,
    outcome: AttemptOutcome,
    input: OutcomeInput,
    known: DeliveriesState,
  ): Promise<OutcomeDecision | { ok: false; reason: "missing" }>;
  /** Settles a delivery whose tenant or endpoint is gone; false when there is no such delivery. */
  abandon(key: DeliveryKey, now: number, reason: string): Promise<boolean>;
  /** Moves a delivery's due time to `until` (see postponeDelivery: `later` means another copy already did). */
  postpone(key: DeliveryKey, now: number, until: number): Promise<"postponed" | "later" | "gone">;
  /** Changes the endpoint under its tenant's version; answers the endpoint as stored afterwards. */
  changeEndpoint(key: DeliveryKey, change: (e: Endpoint) => Endpoint | undefined): Promise<Endpoint | undefined>;
  /** A slot of the endpoint's rate limit, now or reserved up to `horizonMs` ahead. */
  claimRateSlot(key: DeliveryKey, now: number, perSecond: number, horizonMs: number): Promise<RateDecision>;
  /** The plaintexts of an endpoint's signing secrets (sealed at rest), in the order given. */
  openSecrets(key: DeliveryKey, secrets: readonly SigningSecret[]): Promise<string[]>;
  /** `sendTraceContext`: the endpoint takes a traceparent header (its `sendTraceparent`, on unless turned off). */
  post(url: string, body: Uint8Array, headers: Record<string, string>, sendTraceContext: boolean): Promise<PostResult>;
  /** Emits an operational event (never for the system tenant's own deliveries); never throws. */
  notify(notice: OperationalNotice): Promise<void>;
}

export interface DeliverDeps {
  readonly ops: DeliveryOps;
  readonly pacer: Pacer;
  readonly memory: MemoryBudget;
  readonly schedule: readonly number[];
  /** How long a lease lasts: the delivery timeout plus room to record the outcome. */
  readonly leaseMs: number;
  /** How long a disabled tenant's or endpoint's deliveries wait before they are looked at again. */
  readonly holdMs: number;
  /** An endpoint failing without a success for this long is disabled. */
  readonly disableAfterMs: number;
  /** The first wait of an opened circuit before one probe goes. */
  readonly breakerCooldownMs: number;
  /** The sweeper's grace: a delivery held back longer than half of it has its due time moved too. */
  readonly sweepGraceMs: number;
  /** How long a delivery over its endpoint's or tenant's cap may wait here for a slot before it goes back to the queue. */
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

const maxResponseExcerpt = 4096;
/** How far ahead a rate-limited delivery reserves its slot and waits here; beyond, it goes back to the queue. */
const rateHorizonMs = 10_000;
const unknownDelivery = "delivery message for an unknown event or endpoint dropped";

async function inStage<T>(stage: DeliveryStageError["stage"], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new DeliveryStageError(stage, err);
  }
}

/** Ready to POST: the event as leased, and what to give back when done. */
interface Ready {
  readonly kind: "ready";
  readonly key: DeliveryKey;
  readonly endpoint: Endpoint;
  /** The live secrets in clear, newest first: one signature each. */
  readonly secrets: readonly string[];
  readonly event: EventItem;
  readonly leaseId: string;
  readonly attempt: number;
  readonly probe: boolean;
  readonly slot: Slot;
  readonly releaseMemory: () => void;
}

export async function deliver(deps: DeliverDeps, msg: Received): Promise<Disposition> {
  const message = parseDeliveryMessage(msg.body);
  if (!message) {
    deps.log.warn({ body_bytes: msg.body.length }, "malformed delivery message dropped");
    return { kind: "delete" };
  }
  const key: DeliveryKey = { tenantId: message.tenantId, eventId: message.eventId, endpointId: message.endpointId };
  const log = deps.log.child({ tenant_id: key.tenantId, event_id: key.eventId, endpoint_id: key.endpointId });
  const ready = await inStage("before the attempt", () =>
    prepare(deps, key, message.tenantVersion, message.bodyBytes, log),
  );
  if (ready.kind !== "ready") return ready;
  let result: Result = "neutral";
  try {
    const res = await attempt(deps, ready);
    result = pacingResult(res);
    return await inStage("after the attempt", () => conclude(deps, ready, res, log));
  } finally {
    // conclude releases with the timings; this only frees what an exception left held.
    ready.slot.release(result);
    ready.releaseMemory();
  }
}

async function prepare(
  deps: DeliverDeps,
  key: DeliveryKey,
  tenantVersion: number | undefined,
  bodyBytes: number | undefined,
  log: Logger,
): Promise<Ready | Disposition> {
  const found = await lookUp(deps, key, tenantVersion, log);
  if (found.kind !== "found") return found;
  const admission = await deps.pacer.acquire(key.tenantId, key.endpointId, found.endpoint.maxInFlight, deps.slotWaitMs);
  if (!admission.ok) return deferred(deps, key, admission.reason, admission.at);
  const { slot } = admission;
  try {
    // What was read before a wait in line may have changed meanwhile (disabled, its circuit opened, a secret rotated).
    const current = admission.waited ? await lookUp(deps, key, tenantVersion, log) : found;
    const out = current.kind === "found" ? await admitted(deps, key, current.endpoint, slot, bodyBytes, log) : current;
    if (out.kind !== "ready") slot.release("neutral");
    return out;
  } catch (err) {
    slot.release("neutral");
    throw err;
  }
}

/** The delivery's endpoint as this task knows it; or what to do with a message whose endpoint is gone or held. */
async function lookUp(
  deps: DeliverDeps,
  key: DeliveryKey,
  tenantVersion: number | undefined,
  log: Logger,
): Promise<{ kind: "found"; endpoint: Endpoint } | Disposition> {
  const tenant = await deps.ops.getTenant(key.tenantId, tenantVersion);
  const endpoint = tenant?.status === "deleted" ? undefined : tenant?.endpoints[key.endpointId];
  if (!tenant || !endpoint) {
    if (await deps.ops.abandon(key, deps.now(), "tenant or endpoint deleted"))
      log.info("delivery settled: tenant or endpoint deleted");
    else log.warn(unknownDelivery);
    return { kind: "delete" };
  }
  if (tenant.status === "disabled" || !endpoint.enabled) {
    // Held, not lost, no attempt spent: the sweeper leaves it alone meanwhile. A copy of a message that another
    // copy already held is dropped, so copies cannot gather however long the hold lasts.
    const until = deps.now() + deps.holdMs;
    const held = await deps.ops.postpone(key, deps.now(), until);
    log.debug({ held }, "delivery held: tenant or endpoint disabled");
    return held === "postponed" ? { kind: "later", at: until } : { kind: "delete" };
  }
  return { kind: "found", endpoint };
}

/** With a slot of the endpoint's caps: its circuit, its rate limit, the memory budget, then the lease. */
async function admitted(
  deps: DeliverDeps,
  key: DeliveryKey,
  endpoint: Endpoint,
  slot: Slot,
  bodyBytes: number | undefined,
  log: Logger,
): Promise<Ready | Disposition> {
  const { ops, pacer } = deps;
  const secrets = await ops.openSecrets(key, liveSecrets(endpoint, deps.now()));
  let probe = false;
  const gate = circuitGate(endpoint.circuit, deps.now());
  if (gate.kind === "wait") return deferred(deps, key, "circuit_open", pacer.backAt(key.endpointId, gate.until));
  if (gate.kind === "probe") {
    // One probe at a time across every task: the claim is a version-guarded write, and one writer wins.
    const until = deps.now() + deps.leaseMs;
    // The change may run more than once (a race retries it): its last run says whether the write was ours.
    const claim = { won: false };
    const stored = await ops.changeEndpoint(key, (e) => {
      const c = claimProbe(e.circuit, deps.now(), until);
      claim.won = c !== undefined;
      return c && { ...e, circuit: c };
    });
    if (!claim.won)
      return deferred(deps, key, "circuit_open", pacer.backAt(key.endpointId, stored?.circuit?.probeUntil ?? until));
    probe = true;
    log.info("circuit probe");
  }

  if (endpoint.rateLimit !== undefined) {
    const rate = await ops.claimRateSlot(key, deps.now(), endpoint.rateLimit, rateHorizonMs);
    if (!rate.ok)
      return deferred(deps, key, "rate_limited", pacer.backAt(key.endpointId, rate.retryAt, 1000 / endpoint.rateLimit));
    // The slot is reserved: wait for it here (the endpoint's cap bounds how many wait).
    if (rate.at > deps.now()) await new Promise((r) => setTimeout(r, rate.at - deps.now()));
  }

  const releaseMemory = await deps.memory.acquire(bodyBytes ?? deps.maxPayloadBytes);
  const leaseId = randomUUID();
  const lease = await ops
    .takeLease(key, { now: deps.now(), leaseId, leaseMs: deps.leaseMs, maxAttempts: maxAttempts(deps.schedule) })
    .catch((err: unknown) => {
      releaseMemory();
      throw err;
    });
  if (lease.ok)
    return {
      kind: "ready",
      key,
      endpoint,
      secrets,
      event: lease.event,
      leaseId,
      attempt: totalAttempts(lease.delivery),
      probe,
      slot,
      releaseMemory,
    };
  releaseMemory();
  switch (lease.reason) {
    case "leased":
    case "not-due":
      log.debug({ reason: lease.reason }, "message back on the queue until its delivery is free and due");
      return { kind: "later", at: lease.retryAt };
    case "exhausted":
      log.warn("delivery dead: attempt budget spent by a lost worker");
      await exhausted(deps, key, lease.delivery);
      return { kind: "dead-letter" };
    case "missing":
      log.warn(unknownDelivery);
      return { kind: "delete" };
    case "settled":
      return { kind: "delete" };
  }
}

/**
 * Back on the queue until `at`, without an attempt and, for a short wait, without a write. A wait the sweeper
 * could take for a lost message (beyond half its grace) moves the delivery's due time too, so no copy is added.
 * Settled or gone meanwhile: nothing left to hold.
 */
async function deferred(deps: DeliverDeps, key: DeliveryKey, reason: string, at: number): Promise<Disposition> {
  deps.metrics.deliveriesDeferred.inc({ reason });
  // A surplus copy (the delivery is already held until later by the copy that will come back then) is dropped.
  if (at - deps.now() > deps.sweepGraceMs / 2 && (await deps.ops.postpone(key, deps.now(), at)) !== "postponed")
    return { kind: "delete" };
  return { kind: "later", at };
}

function attempt(deps: DeliverDeps, r: Ready): Promise<PostResult> {
  const sentAt = deps.now();
  const delivery = r.event.deliveries[r.key.endpointId]!;
  return deps.ops.post(
    r.endpoint.url,
    r.event.body,
    {
      "content-type": "application/json",
      ...signatureHeaders({
        webhookId: delivery.webhookId,
        timestamp: Math.floor(sentAt / 1000),
        body: r.event.body,
        secrets: r.secrets,
      }),
    },
    r.endpoint.sendTraceparent ?? true,
  );
}

/** What an answer says about the endpoint's health: it is down or overloaded, it is fine, or neither (it refused this one). */
function pacingResult(res: PostResult): Result {
  const code = res.statusCode;
  if (code === undefined || code >= 500 || code === 429) return "failure";
  return code < 300 ? "success" : "neutral";
}

async function conclude(deps: DeliverDeps, r: Ready, res: PostResult, log: Logger): Promise<Disposition> {
  const { key } = r;
  const now = deps.now();
  deps.metrics.attemptSeconds.observe(res.durationMs / 1000);
  const outcome = classifyAttempt(res, now);
  await deps.ops.recordAttempt(key.tenantId, {
    eventId: key.eventId,
    endpointId: key.endpointId,
    attempt: r.attempt,
    at: now - res.durationMs,
    durationMs: res.durationMs,
    statusCode: res.statusCode,
    error: outcome.kind === "failed" ? outcome.error : undefined,
    responseExcerpt: res.bodyExcerpt.slice(0, maxResponseExcerpt) || undefined,
  });
  const decision = await deps.ops.recordOutcome(
    key,
    outcome,
    { now, leaseId: r.leaseId, schedule: deps.schedule, random: deps.random },
    r.event,
  );
  // The detail of a failure (a refused address and why) is ours to read, never the tenant's.
  const fields = {
    attempt: r.attempt,
    status_code: res.statusCode,
    duration_ms: res.durationMs,
    error_detail: res.errorDetail,
  };
  await updateEndpoint(deps, r, res, outcome, log).catch((err: unknown) =>
    log.warn({ err }, "endpoint health not recorded"),
  );
  if (!decision.ok) {
    log.info({ ...fields, reason: decision.reason }, "attempt outcome not recorded");
    return { kind: "delete" };
  }
  deps.metrics.deliveries.inc({ outcome: decision.next, status_class: statusClass(res.statusCode) });
  deps.figures.observe({
    ...key,
    acceptedAt: Date.parse(r.event.createdAt),
    attempt: r.attempt,
    startedAt: now - res.durationMs,
    endedAt: now,
    outcome: decision.next,
  });
  switch (decision.next) {
    case "delivered":
      log.info(fields, "delivered");
      // A requeued dead or skipped delivery got through: the operator hears it recovered.
      if (decision.delivery.recoveredFrom) {
        await deps.ops.notify({
          type: "delivery.recovered",
          data: {
            tenant_id: key.tenantId,
            endpoint_id: key.endpointId,
            event_id: key.eventId,
            recovered_from: decision.delivery.recoveredFrom,
          },
        });
      }
      return { kind: "delete" };
    case "retry":
      log.info(
        { ...fields, error: decision.delivery.lastError, retry_in_ms: decision.delayMs },
        "attempt failed, retry scheduled",
      );
      return { kind: "later", at: decision.delivery.nextAttemptAt };
    case "dead":
      deps.metrics.deadLettered.inc();
      log.warn({ ...fields, error: decision.delivery.lastError }, "delivery dead, moved to the dead-letter queue");
      await exhausted(deps, key, decision.delivery);
      return { kind: "dead-letter" };
  }
}

/** A delivery went dead (to the DLQ): announced by the worker whose write settled it. */
function exhausted(deps: DeliverDeps, key: DeliveryKey, d: Delivery): Promise<void> {
  return deps.ops.notify({
    type: "delivery.exhausted",
    data: {
      tenant_id: key.tenantId,
      endpoint_id: key.endpointId,
      event_id: key.eventId,
      attempts: totalAttempts(d),
      last_status_code: d.lastStatusCode ?? null,
      last_error: d.lastError ?? null,
    },
  });
}

/**
 * The endpoint after this attempt, written once if anything changed: its failure run and disabling, its
 * circuit (opened by a run of failures, closed or reopened by a probe), the in-flight limit it was cut to.
 */
async function updateEndpoint(
  deps: DeliverDeps,
  r: Ready,
  res: PostResult,
  outcome: AttemptOutcome,
  log: Logger,
): Promise<void> {
  const now = deps.now();
  const result = pacingResult(res);
  const verdict = r.slot.release(result, {
    latencyMs: res.durationMs,
    retryAfterMs: outcome.kind === "failed" ? outcome.retryAfterMs : undefined,
  });
  const why = outcome.kind === "failed" ? outcome.error : "";
  const health = {
    ok: outcome.kind === "delivered",
    gone: outcome.kind === "failed" && outcome.permanent === true,
    now,
    disableAfterMs: deps.disableAfterMs,
  };
  // The change may run more than once (a race retries it): its last run says whether this write disabled it.
  const transition = { disabled: false };
  const changes = (e: Endpoint): Endpoint | undefined => {
    let next = endpointAfterAttempt(e, health);
    transition.disabled = e.enabled && next?.enabled === false;
    const current = next ?? e;
    if (r.probe && result !== "neutral" && current.circuit?.state === "open") {
      next = { ...current, circuit: afterProbe(current.circuit, result === "success", now, `a probe failed: ${why}`) };
    } else if (verdict.trip && current.circuit?.state !== "open") {
      next = { ...current, circuit: openCircuit(now, `failed repeatedly, last: ${why}`, deps.breakerCooldownMs) };
    } else if (verdict.reportLimit && current.circuit?.state !== "open") {
      next = {
        ...current,
        circuit: { state: "closed", since: current.circuit?.since ?? now, inFlightLimit: verdict.reportLimit.limit },
      };
    }
    return next;
  };
  // The cached endpoint says whether anything changes; only then is the tenant re-read and written.
  if (!changes(r.endpoint)) return;
  const stored = await deps.ops.changeEndpoint(r.key, changes);
  const was = r.endpoint.circuit?.state ?? "closed";
  const is = stored?.circuit?.state ?? "closed";
  if (was !== is) {
    deps.metrics.circuitTransitions.inc({ to: is });
    log.warn(
      { reason: stored?.circuit?.reason },
      is === "open" ? "circuit opened: deliveries to this endpoint are held" : "circuit closed",
    );
  }
  if (r.probe && is === "closed") deps.pacer.restart(r.key.endpointId);
  if (stored && transition.disabled) {
    log.warn({ reason: stored.disabledReason }, "endpoint disabled");
    const data = {
      tenant_id: r.key.tenantId,
      endpoint_id: r.key.endpointId,
      reason: stored.disabledReason ?? "",
      last_status_code: res.statusCode ?? null,
    };
    await deps.ops.notify({ type: "endpoint.disabled", data });
  }
}
