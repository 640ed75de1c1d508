/**
 * The worker assembled: pollers feeding the scheduler, each delivery admitted by the slot pool and the endpoint
 * gate, and the sweeper, stopped together.
 */
import type { Logger } from "pino";
import { messageAcks, type DeliveryQueue } from "../aws/delivery-queue.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { TenantStore } from "../aws/tenants.ts";
import { maxAttempts } from "../core/retry-policy.ts";
import { pollerStallMs, redriveMaxReceiveCount, workerDrainMs } from "../core/timing.ts";
import type { GuardedClient } from "../outbound/guarded-client.ts";
import { createDestinationSender, type DestinationSenderOptions } from "../aws/destinations/sender.ts";
import type { Metrics } from "../metrics.ts";
import { createComebacks } from "./comebacks.ts";
import { startPollers } from "./consumer.ts";
import { deliver } from "./deliver.ts";
import type { DeliverDeps } from "./deliver-deps.ts";
import { startDeliveryFigures } from "./delivery-figures.ts";
import { deliveryIo } from "./delivery-io.ts";
import { traceDelivery } from "./delivery-tracing.ts";
import { createEndpointGate } from "./endpoint-gate.ts";
import { createMemoryBudget } from "./memory-budget.ts";
import { createScheduler } from "./scheduler.ts";
import { createSlotPool } from "./slot-pool.ts";
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
  /** How long tenants are cached (a change reaches deliveries not started by the API within this). */
  readonly tenantCacheTtlMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepGraceMs: number;
  /** Long-poll length; tests shorten it so stop() returns quickly. */
  readonly waitTimeSeconds: number;
  /** How often the per-minute delivery figures are added to the store. */
  readonly figuresFlushMs: number;
  /** Where AWS destinations are called (emulators only), the worker's region, EventBridge's source, the target rules. */
  readonly destinations: DestinationSettings;
}

export type DestinationSettings = Pick<
  DestinationSenderOptions,
  "endpointUrl" | "stsEndpointUrl" | "assumeRoles" | "region" | "eventBridgeSource" | "rules"
>;

export interface WorkerOptions {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly tenants: TenantStore;
  readonly client: GuardedClient;
  readonly settings: WorkerSettings;
  /** The worker's own static credentials, for STS (tests); the SDK's default chain when absent. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
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
 * How long a delivery waits on the task before its lease: for a slot over a steady endpoint's limit, or for the
 * rate turn it reserved (beyond, it is deferred). Long enough for a healthy endpoint's slots to turn over, short
 * against a lease or a drain, and a quarter of the sweeper's grace at most: a delivery due and not leased for longer
 * than the grace looks lost to the sweeper, which would send it again.
 */
const waitBeforeLeaseMs = (sweepGraceMs: number) => Math.min(10_000, sweepGraceMs / 4);

/** Pollers for this capacity: one receive brings ten; a few pollers keep hundreds of slots fed. */
export function pollersFor(concurrency: number): number {
  return Math.min(4, Math.ceil(concurrency / 200));
}

/** The sender to AWS destinations, bounded as an HTTP delivery is (DELIVERY_TIMEOUT_MS). */
function destinationSender(o: WorkerOptions, now: () => number) {
  const timeoutMs = o.settings.deliveryTimeoutMs;
  return createDestinationSender({
    ...o.settings.destinations,
    timeoutMs,
    platformCredentials: o.credentials,
    now,
    log: o.log,
  });
}

export function startWorker(o: WorkerOptions): Worker {
  const s = o.settings;
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const destinations = destinationSender(o, now);
  const ops = deliveryIo({ ...o, destinations, tenantCacheTtlMs: s.tenantCacheTtlMs, now });
  const pool = createSlotPool({ tenantCap: s.tenantMaxInFlight });
  const gate = createEndpointGate(
    {
      breakerFailures: s.breakerFailures,
      breakerCooldownMs: s.breakerCooldownMs,
      leaseMs: s.leaseMs,
      rateHorizonMs: waitBeforeLeaseMs(s.sweepGraceMs),
      tenantCap: s.tenantMaxInFlight,
      comebacks: createComebacks({ now, random }),
      now,
    },
    ops,
  );
  const figures = startDeliveryFigures({ ...o, flushMs: s.figuresFlushMs, now });
  const deps: DeliverDeps = {
    ops,
    pool,
    gate,
    memory: createMemoryBudget(s.maxBytesInFlight),
    schedule: s.schedule,
    leaseMs: s.leaseMs,
    endpointCap: s.endpointMaxInFlight,
    slotWaitMs: waitBeforeLeaseMs(s.sweepGraceMs),
    disableAfterMs: s.disableAfterMs,
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
    acks: messageAcks(o.queue),
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
    { ...o, graceMs: s.sweepGraceMs, now, recordDepth: (d) => figures.depth(d) },
    s.sweepIntervalMs,
  );
  let stopping: Promise<void> | undefined;
  return {
    inFlight: () => scheduler.inFlight(),
    healthy: () => pollers.progressing(pollerStallMs(s.deliveryTimeoutMs, s.waitTimeSeconds)),
    stop() {
      // Deliveries waiting for a slot go back to the queue rather than start during the drain.
      pool.close();
      stopping ??= Promise.all([scheduler.stop(workerDrainMs(s.deliveryTimeoutMs)), pollers.stop(), sweeper.stop()])
        .then(() => ops.notify.flush())
        .then(() => figures.stop())
        .then(() => destinations.close());
      return stopping;
    },
  };
}
