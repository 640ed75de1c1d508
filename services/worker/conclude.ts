/**
 * After the POST: the attempt record, the outcome under the lease, the endpoint's step (its pacing, health and
 * notices), then the disposition: ack when delivered, nack until the retry is due, or dead-letter. What operators
 * subscribe to (a delivery exhausted or recovered) is announced by the worker whose write made it so, once.
 */
import type { Logger } from "pino";
import { classifyAttempt, healthSignal } from "../core/attempt-outcome.ts";
import { totalAttempts, type Delivery } from "../core/delivery-state.ts";
import type { DeliveryKey } from "../aws/events/delivery-ops.ts";
import type { PostResult } from "../outbound/guarded-client.ts";
import { statusClass } from "../metrics.ts";
import type { DeliverDeps, Ready } from "./deliver-deps.ts";
import { endpointStep } from "./endpoint-step.ts";
import { passTurn } from "./ordering-turn.ts";
import type { Disposition } from "./scheduler.ts";

/** Response excerpts kept in the attempt log at most (characters of the body). */
const maxResponseExcerpt = 4096;

export async function conclude(deps: DeliverDeps, r: Ready, res: PostResult, log: Logger): Promise<Disposition> {
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
  const input = { now, leaseId: r.leaseId, schedule: deps.schedule, random: deps.random };
  const decision = await deps.ops.recordOutcome(key, outcome, input, r.event);
  // The slot goes back with what the answer says of the endpoint; then the endpoint's step writes what changed.
  r.slot.release();
  const signal = healthSignal(res.statusCode, res.verdict);
  const why = outcome.kind === "failed" ? outcome.error : "";
  const retryAfterMs = outcome.kind === "failed" ? outcome.retryAfterMs : undefined;
  const cap = r.endpoint.maxInFlight ?? deps.endpointCap;
  const change = deps.gate.after(key.endpointId, cap, signal, {
    latencyMs: res.durationMs,
    retryAfterMs,
    probe: r.probe,
    why,
  });
  await endpointStep(deps, r, { res, outcome, change }, log).catch((err: unknown) =>
    log.warn({ err }, "endpoint health not recorded"),
  );
  // The detail of a failure (a refused address and why) is ours to read, never the tenant's.
  const fields = {
    attempt: r.attempt,
    status_code: res.statusCode,
    duration_ms: res.durationMs,
    error_detail: res.errorDetail,
  };
  if (!decision.ok) {
    log.info({ ...fields, reason: decision.reason }, "attempt outcome not recorded");
    return { kind: "ack" };
  }
  deps.metrics.deliveries.inc({ outcome: decision.next, status_class: statusClass(res.statusCode) });
  if (decision.next !== "retry") await passTurn(deps, key, r.endpoint, r.event.orderingKey, decision.delivery);
  const acceptedAt = Date.parse(r.event.createdAt);
  deps.figures.observe({
    ...key,
    acceptedAt,
    attempt: r.attempt,
    startedAt: now - res.durationMs,
    endedAt: now,
    outcome: decision.next,
  });
  switch (decision.next) {
    case "delivered":
      log.debug(fields, "delivered");
      // A requeued dead or skipped delivery got through: the operator hears it recovered.
      if (decision.delivery.recoveredFrom) {
        const data = { ...ids(key), recovered_from: decision.delivery.recoveredFrom };
        await deps.ops.notify({ type: "delivery.recovered", data });
      }
      return { kind: "ack" };
    case "retry":
      log.info(
        { ...fields, error: decision.delivery.lastError, retry_in_ms: decision.delayMs },
        "attempt failed, retry scheduled",
      );
      return { kind: "nack", at: decision.delivery.nextAttemptAt };
    case "dead":
      deps.metrics.deadLettered.inc();
      log.warn({ ...fields, error: decision.delivery.lastError }, "delivery dead, moved to the dead-letter queue");
      await exhausted(deps, key, decision.delivery);
      return { kind: "dead-letter" };
  }
}

const ids = (key: DeliveryKey) => ({ tenant_id: key.tenantId, endpoint_id: key.endpointId, event_id: key.eventId });

/** A delivery went dead (to the DLQ): announced by the worker whose write settled it. */
export function exhausted(deps: DeliverDeps, key: DeliveryKey, d: Delivery): Promise<void> {
  const last = { last_status_code: d.lastStatusCode ?? null, last_error: d.lastError ?? null };
  return deps.ops.notify({ type: "delivery.exhausted", data: { ...ids(key), attempts: totalAttempts(d), ...last } });
}
