/**
 * The worker assembled: pollers feeding the scheduler, each delivery paced per tenant and endpoint, and the
 * sweeper, stopped together. The one place the delivery's store, queue and receiver operations are bound.
 */
import type { Logger } from "pino";
import { enqueueDeliveries, type DeliveryQueue } from "../aws/delivery-queue.ts";
import { abandonDelivery, attemptLog, postponeDelivery, recordOutcome, takeLease } from "../aws/events/delivery-ops.ts";
import { claimRateSlot } from "../aws/events/rate-slots.ts";
import type { EventStore } from "../aws/events/store.ts";
import { openSecrets } from "../aws/secret-keys.ts";
import { changeEndpoint, getTenant, tenantCache, type TenantStore } from "../aws/tenants.ts";
import { maxAttempts } from "../core/retry-policy.ts";
import { pollerStallMs, redriveMaxReceiveCount, workerDrainMs } from "../core/timing.ts";
import type { GuardedClient } from "../outbound/guarded-client.ts";
import { operationalNotifier } from "../ingestion/operational-events.ts";
import type { Metrics } from "../metrics.ts";
import { startPollers } from "./consumer.ts";
import { deliver, type DeliveryOps } from "./deliver.ts";
import { startDeliveryFigures } from "./delivery-figures.ts";
import { traceDelivery, traceDeliveryOps } from "./delivery-tracing.ts";
import { createMemoryBudget } from "./memory-budget.ts";
import { createPacer } from "./pacer.ts";
import { createScheduler } from "./scheduler.ts";
import { startSweeper } from "./sweeper.ts";

/** The worker's settings, from the configuration (runtime.ts's workerSettings) or a test. */
export interface WorkerSettings {
  readonly schedule: readonly number[];
  readonly deliveryTimeoutMs: number;
  readonly leaseMs: number;
  readonly visibilityTimeoutS: number;
  readonly concurrency: number;
  readonly maxBytesInFlight: number;
  readonly tenantMaxInFlight: number;
  readonly endpointMaxInFlight: number;
  readonly breakerFailures: number;
  readonly breakerCooldownMs: number;
  readonly maxPayloadBytes: number;
  readonly disableAfterMs: number;
  /** How long a disabled tenant's or endpoint's deliveries wait before they are looked at again. */
  readonly holdMs: number;
  /** How long tenants are cached (a change reaches deliveries not started by the API within this). */
  readonly tenantCacheTtlMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepGraceMs: number;
  /** Long-poll length; tests shorten it so stop() returns quickly. */
  readonly waitTimeSeconds: number;
  /** How often the per-minute delivery figures are added to the store. */
  readonly figuresFlushMs: number;
}

export interface WorkerOptions {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly tenants: TenantStore;
  readonly client: GuardedClient;
  readonly settings: WorkerSettings;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface Worker {
  /** Deliveries in flight now. */
  inFlight(): number;
  /** Every poller is moving (none hung): the worker's liveness, for its container health check. */
  healthy(): boolean;
  stop(): Promise<void>;
}

/**
 * How long a delivery over its endpoint's or tenant's cap waits in this task's line for a slot before it goes
 * back to the queue: long enough for a healthy endpoint's slots to turn over, short against a lease or a drain.
 */
const slotWaitMs = 10_000;

/** Pollers for this capacity: one receive brings ten; a few pollers keep hundreds of slots fed. */
export function pollersFor(concurrency: number): number {
  return Math.min(4, Math.ceil(concurrency / 200));
}

export function startWorker(o: WorkerOptions): Worker {
  const s = o.settings;
  const now = o.now ?? Date.now;
  const cache = tenantCache((id) => getTenant(o.tenants, id), s.tenantCacheTtlMs);
  const writeAttempt = attemptLog(o.store);
  const notify = operationalNotifier({
    store: o.store,
    enqueue: (messages, attributes) => enqueueDeliveries(o.queue, messages, "queue", () => attributes),
    now,
    metrics: o.metrics,
    getTenant: (id) => cache.get(id),
    log: o.log,
  });
  const ops: DeliveryOps = traceDeliveryOps({
    getTenant: (id, minVersion) => cache.get(id, minVersion),
    takeLease: (key, input) => takeLease(o.store, key, input),
    recordAttempt: writeAttempt,
    recordOutcome: (key, outcome, input, known) => recordOutcome(o.store, key, outcome, input, known),
    abandon: (key, at, reason) => abandonDelivery(o.store, key, at, reason),
    postpone: (key, at, until) => postponeDelivery(o.store, key, at, until),
    async changeEndpoint(key, change) {
      const stored = await changeEndpoint(o.tenants, key, change);
      if (stored) cache.remember(stored);
      return stored?.endpoints[key.endpointId];
    },
    claimRateSlot: (key, at, perSecond, horizonMs) => claimRateSlot(o.store, key, at, perSecond, horizonMs),
    openSecrets: (key, secrets) => openSecrets(o.tenants.keys, key, secrets),
    post: (url, body, headers) => o.client.post(url, body, headers),
    notify,
  });
  const random = o.random ?? Math.random;
  const pacer = createPacer({
    tenantMaxInFlight: s.tenantMaxInFlight,
    endpointMaxInFlight: s.endpointMaxInFlight,
    breakerFailures: s.breakerFailures,
    now,
    random,
  });
  const figures = startDeliveryFigures({
    store: o.store,
    metrics: o.metrics,
    log: o.log,
    flushMs: s.figuresFlushMs,
    now,
  });
  const deps = {
    ops,
    pacer,
    memory: createMemoryBudget(s.maxBytesInFlight),
    schedule: s.schedule,
    leaseMs: s.leaseMs,
    holdMs: s.holdMs,
    slotWaitMs,
    disableAfterMs: s.disableAfterMs,
    breakerCooldownMs: s.breakerCooldownMs,
    sweepGraceMs: s.sweepGraceMs,
    maxPayloadBytes: s.maxPayloadBytes,
    log: o.log,
    metrics: o.metrics,
    figures,
    now,
    random,
  };
  const scheduler = createScheduler({
    capacity: s.concurrency,
    visibilityTimeoutS: s.visibilityTimeoutS,
    replaceAfterReceives: Math.floor(redriveMaxReceiveCount(maxAttempts(s.schedule)) / 2),
    queue: o.queue,
    log: o.log,
    metrics: o.metrics,
    now,
    handle: (m) => traceDelivery(m, () => deliver(deps, m)),
  });
  const pollers = startPollers({
    sqs: o.queue.sqs,
    queueUrl: o.queue.queueUrl,
    pollers: pollersFor(s.concurrency),
    visibilityTimeoutS: s.visibilityTimeoutS,
    waitTimeSeconds: s.waitTimeSeconds,
    scheduler,
    log: o.log,
  });
  const sweeper = startSweeper(
    {
      store: o.store,
      queue: o.queue,
      graceMs: s.sweepGraceMs,
      log: o.log,
      metrics: o.metrics,
      now,
      recordDepth: (d) => figures.depth(d),
    },
    s.sweepIntervalMs,
  );
  let stopping: Promise<void> | undefined;
  return {
    inFlight: () => scheduler.inFlight(),
    healthy: () => pollers.progressing(pollerStallMs(s.deliveryTimeoutMs, s.waitTimeSeconds)),
    stop() {
      // Deliveries waiting in line for a slot go back to the queue rather than start during the drain.
      pacer.close();
      stopping ??= Promise.all([
        scheduler.stop(workerDrainMs(s.deliveryTimeoutMs)),
        pollers.stop(),
        sweeper.stop(),
      ]).then(() => figures.stop());
      return stopping;
    },
  };
}
