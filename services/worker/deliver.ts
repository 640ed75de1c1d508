/**
 * One delivery, the use case: read the event, take the lease, POST the signed bytes, record the
 * attempt, then deliver, schedule the retry, or dead-letter. Failures are sorted by stage:
 * before the POST (settle or drop), the attempt (record and retry), after it (throw: SQS redelivers).
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { classifyAttempt } from "../core/attempt-outcome.ts";
import { totalAttempts } from "../core/delivery-state.ts";
import { signatureHeaders } from "../core/signing.ts";
import { endpointAfterAttempt, liveSecrets, type Tenant } from "../core/tenant.ts";
import {
  deadLetter,
  deliveryMessageSchema,
  maxVisibilityS,
  parkMessage,
  resendDelayed,
  type DeliveryMessage,
  type DeliveryQueue,
} from "../aws/delivery-queue.ts";
import { abandonDelivery, postponeDelivery, recordAttempt, recordOutcome, takeLease, type DeliveryKey } from "../aws/events/delivery-ops.ts";
import { getEventForDelivery } from "../aws/events/read-events.ts";
import type { EventStore } from "../aws/events/store.ts";
import type { GuardedClient } from "../outbound/guarded-client.ts";
import { statusClass, type Metrics } from "../metrics.ts";

export interface DeliverDeps {
  readonly store: EventStore;
  readonly queue: DeliveryQueue;
  readonly getTenant: (tenantId: string) => Promise<Tenant | undefined>;
  readonly client: GuardedClient;
  readonly schedule: readonly number[];
  /** How long a lease lasts: the delivery timeout plus room to record the outcome. */
  readonly leaseMs: number;
  /** How long a disabled tenant's or endpoint's deliveries wait before they are looked at again. */
  readonly holdMs: number;
  /** Persists an endpoint's changed health (see endpointAfterAttempt). */
  readonly recordEndpointHealth: (
    ids: { tenantId: string; endpointId: string },
    attempt: { ok: boolean; gone: boolean; now: number; disableAfterMs: number },
  ) => Promise<void>;
  /** An endpoint failing without a success for this long is disabled. */
  readonly disableAfterMs: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface ReceivedMessage {
  readonly body: string;
  readonly receiptHandle: string;
  /** Epoch ms of the first receipt: SQS allows 12 h of visibility from then. */
  readonly firstReceivedAt?: number | undefined;
}

/** `delete`: acknowledge the message; `keep`: it stays on the queue (already made invisible as needed). */
export type Disposition = "delete" | "keep";

const maxResponseExcerpt = 4096;

function parseMessage(body: string): DeliveryMessage | undefined {
  try {
    const parsed = deliveryMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function deliver(deps: DeliverDeps, msg: ReceivedMessage): Promise<Disposition> {
  const now = deps.now ?? Date.now;
  const message = parseMessage(msg.body);
  if (!message) {
    deps.log.warn({ body_bytes: msg.body.length }, "malformed delivery message dropped");
    return "delete";
  }
  const key: DeliveryKey = message;
  const log = deps.log.child({ tenant_id: key.tenantId, event_id: key.eventId, endpoint_id: key.endpointId });

  /** Keeps the message until `at`, within SQS's 12 h visibility budget, else as a fresh delayed copy. */
  const waitUntil = async (at: number): Promise<Disposition> => {
    const delayS = Math.max(1, (at - now()) / 1000);
    const usedS = msg.firstReceivedAt ? (now() - msg.firstReceivedAt) / 1000 : 0;
    if (usedS + delayS < maxVisibilityS - 60) {
      await parkMessage(deps.queue, msg.receiptHandle, delayS);
      return "keep";
    }
    await resendDelayed(deps.queue, message, delayS);
    return "delete";
  };

  const event = await getEventForDelivery(deps.store, key);
  const delivery = event?.deliveries[key.endpointId];
  if (!event || !delivery) {
    log.warn("delivery message for an unknown event or endpoint dropped");
    return "delete";
  }
  if (delivery.status === "DELIVERED" || delivery.status === "DEAD") return "delete";

  const tenant = await deps.getTenant(key.tenantId);
  const endpoint = tenant?.status === "deleted" ? undefined : tenant?.endpoints[key.endpointId];
  if (!tenant || !endpoint) {
    await abandonDelivery(deps.store, key, now(), "tenant or endpoint deleted");
    log.info("delivery settled: tenant or endpoint deleted");
    return "delete";
  }
  if (tenant.status === "disabled" || !endpoint.enabled) {
    // Held, not lost: a fresh delayed copy, so holding never counts towards the redrive limit.
    log.debug("delivery held: tenant or endpoint disabled");
    const until = now() + deps.holdMs;
    await postponeDelivery(deps.store, key, now(), until, { deliveries: event.deliveries, version: event.version });
    await resendDelayed(deps.queue, message, deps.holdMs / 1000);
    return "delete";
  }

  const leaseId = randomUUID();
  // The event just read is the state the lease is decided on: no second read unless another writer raced us.
  const lease = await takeLease(
    deps.store,
    key,
    { now: now(), leaseId, leaseMs: deps.leaseMs, maxAttempts: deps.schedule.length + 1 },
    { deliveries: event.deliveries, version: event.version },
  );
  if (!lease.ok) {
    switch (lease.reason) {
      case "leased":
      case "not-due":
        log.debug({ reason: lease.reason }, "message parked until its delivery is free and due");
        return waitUntil(lease.retryAt);
      case "exhausted":
        await deadLetter(deps.queue, msg.body);
        log.warn("delivery dead: attempt budget spent by a lost worker");
        return "delete";
      default:
        return "delete";
    }
  }

  const attempt = totalAttempts(lease.delivery);
  const sentAt = now();
  const headers = {
    "content-type": "application/json",
    ...signatureHeaders({
      webhookId: delivery.webhookId,
      timestamp: Math.floor(sentAt / 1000),
      body: event.body,
      secrets: liveSecrets(endpoint, sentAt),
    }),
  };
  const res = await deps.client.post(endpoint.url, event.body, headers);
  deps.metrics.attemptSeconds.observe(res.durationMs / 1000);
  const outcome = classifyAttempt(res, now());

  await recordAttempt(deps.store, key.tenantId, {
    eventId: key.eventId,
    endpointId: key.endpointId,
    attempt,
    at: sentAt,
    durationMs: res.durationMs,
    statusCode: res.statusCode,
    error: outcome.kind === "failed" ? outcome.error : undefined,
    responseExcerpt: res.bodyExcerpt.slice(0, maxResponseExcerpt) || undefined,
  });
  // Our lease write left the event at version + 1 with this delivery leased; start from there.
  const afterLease = { deliveries: { ...event.deliveries, [key.endpointId]: lease.delivery }, version: event.version + 1 };
  const decision = await recordOutcome(
    deps.store,
    key,
    outcome,
    { now: now(), leaseId, schedule: deps.schedule, random: deps.random ?? Math.random },
    afterLease,
  );
  const fields = { attempt, status_code: res.statusCode, duration_ms: res.durationMs };
  const health = {
    ok: outcome.kind === "delivered",
    gone: outcome.kind === "failed" && outcome.permanent === true,
    now: now(),
    disableAfterMs: deps.disableAfterMs,
  };
  // The cached endpoint says whether anything changes; only then is the tenant re-read and written.
  if (endpointAfterAttempt(endpoint, health)) {
    await deps.recordEndpointHealth({ tenantId: key.tenantId, endpointId: key.endpointId }, health).catch((err: unknown) => {
      log.warn({ err }, "endpoint health not recorded");
    });
    if (health.gone) log.warn("endpoint disabled: it answered 410 Gone");
  }
  if (!decision.ok) {
    log.info({ ...fields, reason: decision.reason }, "attempt outcome not recorded");
    return "delete";
  }
  deps.metrics.deliveries.inc({ outcome: decision.next, status_class: statusClass(res.statusCode) });
  switch (decision.next) {
    case "delivered":
      log.info(fields, "delivered");
      return "delete";
    case "retry":
      log.info({ ...fields, error: decision.delivery.lastError, retry_in_ms: decision.delayMs }, "attempt failed, retry scheduled");
      return waitUntil(decision.delivery.nextAttemptAt);
    case "dead":
      // Into the DLQ before the source message goes: a crash in between leaves a duplicate, never a loss.
      await deadLetter(deps.queue, msg.body);
      deps.metrics.deadLettered.inc();
      log.warn({ ...fields, error: decision.delivery.lastError }, "delivery dead, moved to the dead-letter queue");
      return "delete";
  }
}
