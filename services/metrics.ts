/**
 * Prometheus metrics of both services, in a registry per process (no global state). Label values are
 * bounded: outcomes and status classes only, never tenant ids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { latencyBucketsS } from "./core/delivery-figures.ts";

export interface Metrics {
  readonly registry: Registry;
  readonly eventsAccepted: Counter;
  /** Events whose payload did not conform to their type's schema: refused (`enforce`) or accepted and marked (`warn`). */
  readonly schemaInvalid: Counter<"mode">;
  /** Deliveries not created because an endpoint's content filter did not match the event. */
  readonly filteredOut: Counter;
  readonly deliveries: Counter<"outcome" | "status_class">;
  readonly attemptSeconds: Histogram;
  readonly queueMessages: Gauge<"queue" | "state">;
  readonly sweeperRequeued: Counter;
  readonly deadLettered: Counter;
  readonly dlqRequeued: Counter;
  readonly deliveriesInFlight: Gauge;
  readonly deliveriesDeferred: Counter<"reason">;
  readonly circuitTransitions: Counter<"to">;
  readonly oldestOverdueSeconds: Gauge;
  /** The SLO's histograms: from an event's acceptance to its delivery's first attempt, and to its success. */
  readonly firstAttemptSeconds: Histogram;
  readonly deliveredSeconds: Histogram;
}

export function createMetrics(service: "api" | "worker"): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    eventsAccepted: new Counter({
      name: "webhooks_events_accepted_total",
      help: "Events stored and answered 201",
      registers,
    }),
    schemaInvalid: new Counter({
      name: "webhooks_events_schema_invalid_total",
      help: "Events whose payload did not conform to their type's schema, by the type's validation mode",
      labelNames: ["mode"],
      registers,
    }),
    filteredOut: new Counter({
      name: "webhooks_deliveries_filtered_total",
      help: "Deliveries not created because an endpoint's content filter did not match the event",
      registers,
    }),
    deliveries: new Counter({
      name: "webhooks_delivery_attempts_total",
      help: "Delivery attempts by what they led to (delivered, retry, dead) and the response's status class",
      labelNames: ["outcome", "status_class"],
      registers,
    }),
    attemptSeconds: new Histogram({
      name: "webhooks_attempt_duration_seconds",
      help: "Duration of one POST to an endpoint",
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queueMessages: new Gauge({
      name: "webhooks_queue_messages",
      help: "Messages in the delivery queue and the DLQ, as last seen by this process",
      labelNames: ["queue", "state"],
      registers,
    }),
    sweeperRequeued: new Counter({
      name: "webhooks_sweeper_requeued_total",
      help: "Overdue deliveries the sweeper re-enqueued",
      registers,
    }),
    deadLettered: new Counter({ name: "webhooks_dead_lettered_total", help: "Deliveries moved to the DLQ", registers }),
    dlqRequeued: new Counter({
      name: "webhooks_dlq_requeued_total",
      help: "Dead deliveries requeued from the DLQ",
      registers,
    }),
    deliveriesInFlight: new Gauge({
      name: "webhooks_deliveries_in_flight",
      help: "Deliveries this worker is working on now",
      registers,
    }),
    deliveriesDeferred: new Counter({
      name: "webhooks_deliveries_deferred_total",
      help: "Deliveries put back on the queue for later without an attempt, by why (tenant_cap, endpoint_cap, paused, circuit_open, rate_limited)",
      labelNames: ["reason"],
      registers,
    }),
    oldestOverdueSeconds: new Gauge({
      name: "webhooks_oldest_overdue_seconds",
      help: "How long the most overdue unsettled delivery has been due, beyond the sweeper's grace (0: none), as last seen by the sweeper",
      registers,
    }),
    circuitTransitions: new Counter({
      name: "webhooks_circuit_transitions_total",
      help: "Endpoint circuit breakers this worker opened or closed",
      labelNames: ["to"],
      registers,
    }),
    firstAttemptSeconds: new Histogram({
      name: "webhooks_delivery_first_attempt_seconds",
      help: "Time from an event's acceptance to the first attempt of each of its deliveries",
      buckets: [...latencyBucketsS],
      registers,
    }),
    deliveredSeconds: new Histogram({
      name: "webhooks_delivery_success_seconds",
      help: "Time from an event's acceptance to the successful attempt of each of its deliveries",
      buckets: [...latencyBucketsS],
      registers,
    }),
  };
}

export function statusClass(statusCode: number | undefined): string {
  return statusCode === undefined ? "none" : `${Math.floor(statusCode / 100)}xx`;
}
