/** The delivery's I/O bound to this worker's store, tenant cache, queue, guarded client and AWS sender (traced). */
import { createEnqueueBatcher, enqueueDeliveries, type DeliveryQueue } from "../aws/delivery-queue.ts";
import {
  abandonDelivery,
  attemptLog,
  parkDelivery,
  recordOutcome,
  skipDelivery,
  takeLease,
} from "../aws/events/delivery-ops.ts";
import { passTurn, takeTurn, wakeMessage } from "../aws/events/ordering.ts";
import { takeRateTurn } from "../aws/events/rate-turns.ts";
import type { EventStore } from "../aws/events/store.ts";
import { openSecrets } from "../aws/secret-keys.ts";
import { changeEndpoint, getTenant, tenantCache, type TenantStore } from "../aws/tenants.ts";
import { operationalNotifier } from "../ingestion/operational-events.ts";
import type { GuardedClient } from "../outbound/guarded-client.ts";
import type { DestinationSender } from "../aws/destinations/sender.ts";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import { turnTiming } from "../core/ordering.ts";
import type { DeliveryOps } from "./deliver-deps.ts";
import { traceDeliveryOps } from "./delivery-tracing.ts";

export interface DeliveryIoOptions {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly tenants: TenantStore;
  readonly client: GuardedClient;
  readonly destinations: DestinationSender;
  /** How long tenants are cached (a change reaches deliveries not started by the API within this). */
  readonly tenantCacheTtlMs: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
}

export function deliveryIo(o: DeliveryIoOptions): DeliveryOps {
  const cache = tenantCache((id) => getTenant(o.tenants, id), o.tenantCacheTtlMs);
  // Many keys' turns passed at once wake their next heads in one SendMessageBatch call.
  const wake = createEnqueueBatcher(o.queue);
  const notify = operationalNotifier({
    store: o.store,
    enqueue: (messages, attributes) => enqueueDeliveries(o.queue, messages, "queue", () => attributes),
    now: o.now,
    metrics: o.metrics,
    getTenant: (id) => cache.get(id),
    log: o.log,
  });
  return traceDeliveryOps({
    getTenant: (id, minVersion) => cache.get(id, minVersion),
    takeLease: (key, input) => takeLease(o.store, key, input),
    recordAttempt: attemptLog(o.store),
    recordOutcome: (key, outcome, input, known) => recordOutcome(o.store, key, outcome, input, known),
    abandon: (key, at, reason) => abandonDelivery(o.store, key, at, reason),
    skip: (key, at) => skipDelivery(o.store, key, at),
    park: (key, at, until, behind) => parkDelivery(o.store, key, at, until, behind),
    takeTurn: (key, ordered, at) => takeTurn(o.store, key, ordered, at, turnTiming),
    async passTurn(key, ordered, settled, at) {
      const head = await passTurn(o.store, key, ordered, settled, at);
      // Lost (refused, or this task dies first): the head looks again when its park ends (the sweeper).
      if (head) await wake([wakeMessage(key, ordered.orderingKey, head)]);
    },
    async changeEndpoint(key, change) {
      const stored = await changeEndpoint(o.tenants, key, change);
      if (stored) cache.remember(stored);
      return stored?.endpoints[key.endpointId];
    },
    takeRateTurn: (key, at, perSecond, horizonMs) => takeRateTurn(o.store, key, at, perSecond, horizonMs),
    openSecrets: (key, secrets) => openSecrets(o.tenants.keys, key, secrets),
    post: (url, body, headers) => o.client.post(url, body, headers),
    send: (dest, message) => o.destinations.send(dest, message),
    notify,
  });
}
